"""The engine's live inventory: the Containers and Images pages, the container details panel,
the widgets both pages share, and a container's log."""
