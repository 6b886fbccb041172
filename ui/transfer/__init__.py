"""Import and export of configuration files in the window: a file chooser made for a finger
(a USB stick's mount point first), the import's preview and confirmation, the export."""
