"""The BIRTH (and APPS) metrics: who this gateway is, all as STRING metrics, as Kapua reads them
(kura-remote.md §3.3); Moorings in application_framework, Kapua's fallback kura_version too."""

from __future__ import annotations

import os
import platform
import socket
import time
from collections.abc import Callable, Iterable

from app import __version__
from app.remote.settings import CloudSettings

_STARTED = time.monotonic()


def _memory_kb() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return line.split()[1]
    except OSError:
        pass
    return ""


def _addresses() -> tuple[str, str]:
    """``connection_interface`` and ``connection_ip``: the interface names and addresses."""
    try:
        names = [name for _, name in socket.if_nameindex() if name != "lo"]
    except OSError:
        names = []
    ips: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            ip = str(info[4][0])
            if ip not in ips and not ip.startswith("127."):
                ips.append(ip)
    except OSError:
        pass
    return ",".join(names), ",".join(ips) or "UNKNOWN"


def birth_metrics(settings: CloudSettings, application_ids: Iterable[str]) -> dict[str, str]:
    uname = platform.uname()
    interfaces, ips = _addresses()
    metrics = {
        "uptime": str(int((time.monotonic() - _STARTED) * 1000)),
        "display_name": socket.gethostname() or settings.client_id,
        "model_name": "Moorings gateway",
        "model_id": "moorings",
        "serial_number": settings.client_id,
        "firmware_version": uname.release,
        "bios_version": "",
        "cpu_version": uname.machine,
        "os": uname.system,
        "os_version": uname.version,
        "os_arch": uname.machine,
        "jvm_name": platform.python_implementation(),
        "jvm_version": platform.python_version(),
        "jvm_profile": "",
        "kura_version": f"Moorings {__version__}",
        "application_framework": "Moorings",
        "application_framework_version": __version__,
        "osgi_framework": "",
        "osgi_framework_version": "",
        "connection_interface": interfaces,
        "connection_ip": ips,
        "accept_encoding": "gzip" if settings.gzip else "",
        # Comma-joined, no spaces: Kapua splits it and matches each token exactly.
        "application_ids": ",".join(application_ids),
        "available_processors": str(os.cpu_count() or 1),
        "total_memory": _memory_kb(),
        "payload_encoding": "KURA_PROTOBUF",
    }
    return {k: v for k, v in metrics.items() if v is not None}


def birth_source(apps: Callable[[], list[str]]) -> Callable[[CloudSettings], dict[str, str]]:
    return lambda settings: birth_metrics(settings, apps())
