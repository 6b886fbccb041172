"""Where the window's file chooser looks first: mounted media from mountinfo, then home; a
folder's listing offers sub-folders and configuration files only."""

from __future__ import annotations

from pathlib import Path

from app.config.places import likely_places, list_folder, media_mounts

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
90 27 8:17 / /media/tech/KINGSTON rw,nosuid,nodev,relatime shared:1 - vfat /dev/sdb1 rw
91 27 8:33 / /run/media/tech/My\\040Stick rw,relatime - exfat /dev/sdc1 rw
92 27 0:50 / /mnt/scratch rw - tmpfs tmpfs rw
93 27 8:49 / /mnt/usb rw - ext4 /dev/sdd1 rw
94 27 8:65 / /srv/data rw - ext4 /dev/sde1 rw
"""


def test_media_are_found_by_mount_point_and_file_system() -> None:
    places = media_mounts(MOUNTINFO)
    assert [str(p.path) for p in places] == [
        "/media/tech/KINGSTON", "/mnt/usb", "/run/media/tech/My Stick"]
    assert places[2].label == "USB / media: My Stick"
    assert all(p.removable for p in places)


def test_garbled_mountinfo_lines_are_skipped() -> None:
    assert media_mounts("nonsense\n1 2 3\n - vfat\n\n") == []


def test_likely_places_are_media_that_exist_then_home(tmp_path: Path) -> None:
    stick = tmp_path / "media" / "tech" / "STICK"
    stick.mkdir(parents=True)
    info = tmp_path / "mountinfo"
    info.write_text(f"90 27 8:17 / {stick} rw - vfat /dev/sdb1 rw\n"
                    "91 27 8:33 / /media/tech/GONE rw - vfat /dev/sdc1 rw\n", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    # (Only paths under the media roots count: this one is under tmp_path.)
    assert [p.label for p in likely_places(home, info)] == ["Home folder"]
    missing = tmp_path / "no-mountinfo"
    assert [p.path for p in likely_places(home, missing)] == [home]


def test_a_folder_lists_folders_then_configuration_files(tmp_path: Path) -> None:
    (tmp_path / "b-folder").mkdir()
    (tmp_path / "A-folder").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "snapshot.XML").write_text("<x/>", encoding="utf-8")
    (tmp_path / "moorings.json").write_text("{}", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    rows = list_folder(tmp_path)
    assert [(r.name, r.is_folder) for r in rows] == [
        ("A-folder", True), ("b-folder", True), ("moorings.json", False),
        ("snapshot.XML", False)]
    assert rows[2].size == 2
    assert len(list_folder(tmp_path, most=1)) == 1
