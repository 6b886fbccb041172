"""Where the main window goes: the whole screen (or work area) of a small panel, whatever the
window manager, and a laptop-sized window that fits with its frame on a big screen.

Maximising and full screen are requests to a window manager. A kiosk started with `xinit`
has none, and a minimal one may ignore them for an undecorated window: the window then opens
at its size hint in a corner. So the window is given the target geometry itself before it is
shown, the request is made as well, and once shown its frame is fitted into the work area (a
title bar the manager added must not push the bottom of the window off the screen). Without
a window manager nobody gives a window the keyboard either: each window shown is activated by
the application, or the on-screen keyboard would have no field to type into.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QEvent, QObject, QRect, QSize, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger("moorings")

LAPTOP_SIZE = QSize(1280, 800)
# Room a window manager's frame may take around a laptop-sized window (title bar, borders).
FRAME_ALLOWANCE = 64
# After the window manager has had its say (it places a new window asynchronously).
SETTLE_MS = 400


def window_manager_running() -> bool | None:
    """Whether an X window manager runs (None: not X11, or X could not be asked)."""
    if QGuiApplication.platformName() != "xcb" or not os.environ.get("DISPLAY"):
        return None
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        x11 = ctypes.CDLL(name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XDefaultScreen.restype = ctypes.c_int
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XGetWindowProperty.restype = ctypes.c_int
    x11.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
        ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        # ICCCM: a window manager owns WM_S<screen>; EWMH: it names itself on the root.
        selection = x11.XInternAtom(display, f"WM_S{x11.XDefaultScreen(display)}".encode(), 0)
        if x11.XGetSelectionOwner(display, selection):
            return True
        check = x11.XInternAtom(display, b"_NET_SUPPORTING_WM_CHECK", 0)
        kind, fmt = ctypes.c_ulong(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = x11.XGetWindowProperty(display, x11.XDefaultRootWindow(display), check, 0, 1,
                                        0, 0, ctypes.byref(kind), ctypes.byref(fmt),
                                        ctypes.byref(count), ctypes.byref(after),
                                        ctypes.byref(data))
        if data:
            x11.XFree(data)
        return status == 0 and count.value > 0
    finally:
        x11.XCloseDisplay(display)


def wants_whole_area(area: QRect) -> bool:
    """A screen with no room for a laptop-sized window and its frame: use all of it."""
    return (area.width() < LAPTOP_SIZE.width() + FRAME_ALLOWANCE
            or area.height() < LAPTOP_SIZE.height() + FRAME_ALLOWANCE)


def fit_frame(frame: QRect, client: QRect, area: QRect) -> QRect | None:
    """The client geometry that puts ``frame`` (the client plus its decorations) inside
    ``area``, or None when it is inside already."""
    if area.contains(frame):
        return None
    left, top = client.x() - frame.x(), client.y() - frame.y()
    right, bottom = frame.right() - client.right(), frame.bottom() - client.bottom()
    width = min(client.width(), area.width() - left - right)
    height = min(client.height(), area.height() - top - bottom)
    x = min(max(frame.x(), area.x()), area.right() + 1 - (width + left + right)) + left
    y = min(max(frame.y(), area.y()), area.bottom() + 1 - (height + top + bottom)) + top
    return QRect(x, y, max(width, 1), max(height, 1))


class _ActivateShownWindows(QObject):
    """With no window manager: each window shown gets the keyboard, and when it goes, the
    window under it gets it back (a dialog closing must not leave the panel deaf)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Show, QEvent.Type.Hide) and isinstance(watched, QWidget) \
                and watched.isWindow() and _takes_focus(watched):
            if kind == QEvent.Type.Show:
                QTimer.singleShot(0, watched, watched.activateWindow)
            else:
                QTimer.singleShot(0, self, _activate_topmost)
        return False


def _takes_focus(widget: QWidget) -> bool:
    from PySide6.QtCore import Qt

    kind = widget.windowType()
    return kind not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip,
                        Qt.WindowType.SplashScreen) \
        and not widget.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating) \
        and not bool(widget.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus)


def _activate_topmost() -> None:
    if QApplication.activeWindow() is not None:
        return
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and _takes_focus(w)]
    # The modal dialog still open, else the last window shown (the main window at the end).
    modal = QApplication.activeModalWidget()
    target = modal if modal is not None else (shown[-1] if shown else None)
    if target is not None:
        target.activateWindow()


_focus_keeper: _ActivateShownWindows | None = None


def keep_focus_without_window_manager(app: QApplication) -> bool:
    """Install the activation a window manager would do, when there is none; True if so."""
    global _focus_keeper
    if _focus_keeper is not None or window_manager_running() is not False:
        return _focus_keeper is not None
    _focus_keeper = _ActivateShownWindows(app)
    app.installEventFilter(_focus_keeper)
    return True


class WindowPlacement(QObject):
    """Shows ``window`` as the screen asks and keeps its frame inside the work area."""

    def __init__(self, window: QWidget, *, fullscreen: bool) -> None:
        super().__init__(window)
        self._window = window
        self._fullscreen = fullscreen
        self._whole_area = False

    def screen(self) -> QScreen:
        screen = self._window.screen()
        return screen if screen is not None else QGuiApplication.primaryScreen()

    def target(self) -> QRect:
        """The client geometry wanted now."""
        screen = self.screen()
        if self._fullscreen:
            return screen.geometry()
        area = screen.availableGeometry()
        if wants_whole_area(area):
            return area
        size = LAPTOP_SIZE
        return QRect(area.x() + (area.width() - size.width()) // 2,
                     area.y() + (area.height() - size.height()) // 2,
                     size.width(), size.height())

    def show(self) -> None:
        window = self._window
        area = self.screen().availableGeometry()
        self._whole_area = self._fullscreen or wants_whole_area(area)
        # The geometry first: it is what a screen without a window manager shows.
        window.setGeometry(self.target())
        if self._fullscreen:
            from PySide6.QtCore import Qt

            window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            window.showFullScreen()
        elif self._whole_area:
            window.showMaximized()
        else:
            window.show()
        screen = self.screen()
        screen.availableGeometryChanged.connect(self._settle_soon)
        screen.geometryChanged.connect(self._settle_soon)
        self._settle_soon()

    def _settle_soon(self, *_: object) -> None:
        QTimer.singleShot(SETTLE_MS, self, self.settle)

    def settle(self) -> None:
        """Fill the screen or area where nobody did, and bring a frame that sticks out of the
        work area back inside it."""
        window = self._window
        if not window.isVisible():
            return
        target = self.target()
        if self._whole_area and window.geometry().size() != target.size() \
                and not self._fills(window.frameGeometry(), target):
            window.setGeometry(target)
        if self._fullscreen:
            return
        fitted = fit_frame(window.frameGeometry(), window.geometry(),
                           self.screen().availableGeometry())
        if fitted is not None:
            log.info("the window's frame did not fit the screen; moved to %dx%d+%d+%d",
                     fitted.width(), fitted.height(), fitted.x(), fitted.y())
            window.setGeometry(fitted)

    @staticmethod
    def _fills(frame: QRect, target: QRect) -> bool:
        # A window manager that maximised the window with its own decorations: its frame
        # covers the target area (give or take a border).
        return frame.width() >= target.width() - 8 and frame.height() >= target.height() - 8
