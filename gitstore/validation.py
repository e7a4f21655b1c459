"""Checks on raw data before it is stored.

Pure functions over plain Python data (as parsed from JSON), so the API, the web forms and the
git push validator apply exactly the same rules. Each raises `InvalidChange(field, message)`.
"""

from __future__ import annotations

import re
from typing import Any

from .canonical import canonical_json, natural_key
from .errors import InvalidChange

MAX_NAME_BYTES = 255
MAX_SEGMENT_BYTES = 100
MAX_PORT_NAME = 64

# Names git treats specially (or that checkouts on case-insensitive, HFS+ or NTFS file systems
# would alias to them); `git fsck --strict` and receive.fsckObjects reject trees holding them.
_RESERVED_SEGMENTS = {".git", "git~1", ".gitmodules", "gitmod~1", ".gitattributes", "gitatt~1"}
# HFS+ ignores these code points when comparing names, so ".g\u200cit" would be ".git" there.
_HFS_IGNORABLE = dict.fromkeys(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
# C0 and C1 controls, and the line and paragraph separators: never in a name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHA256 = re.compile(r"[0-9a-f]{64}")

PHOTO_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PORT_MODES = frozenset({"access", "trunk", "routed", "none"})


def validate_config_name(name: Any) -> str:
    """A relative path of safe segments, usable as `configs/<name>` in a tree."""
    field = f"configs.{name}"
    if not isinstance(name, str) or not name:
        raise InvalidChange(field, "a config name must be a non-empty string")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidChange(field, "not valid UTF-8") from exc
    if len(encoded) > MAX_NAME_BYTES:
        raise InvalidChange(field, f"longer than {MAX_NAME_BYTES} bytes")
    if _CONTROL.search(name):
        raise InvalidChange(field, "control characters are not allowed")
    if "\\" in name:
        raise InvalidChange(field, "backslashes are not allowed")
    if name.startswith("/"):
        raise InvalidChange(field, "must be a relative path")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidChange(field, "empty, '.' and '..' path segments are not allowed")
        if segment.startswith("-"):
            raise InvalidChange(field, "a path segment may not start with '-'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidChange(field, f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes")
        # Windows drops trailing dots and spaces, HFS+ drops ignorable code points.
        folded = segment.translate(_HFS_IGNORABLE).rstrip(". ").casefold()
        if folded in _RESERVED_SEGMENTS:
            raise InvalidChange(field, f"'{segment}' is reserved by git")
    return name


def validate_device_json(obj: Any) -> dict:
    """device.json: a free-form JSON object with string keys."""
    if not isinstance(obj, dict):
        raise InvalidChange("device", "must be an object")
    for key in obj:
        if not isinstance(key, str):
            raise InvalidChange("device", f"key {key!r} is not a string")
    try:
        canonical_json(obj)
    except (TypeError, ValueError) as exc:
        raise InvalidChange("device", f"not representable as JSON: {exc}") from exc
    return obj


def _is_int(value: Any) -> bool:
    # bool is a subclass of int in Python, but `true` is not a VLAN number.
    return isinstance(value, int) and not isinstance(value, bool)


def _vlan(value: Any, field: str) -> int:
    if not _is_int(value) or not 1 <= value <= 4094:
        raise InvalidChange(field, "must be an integer VLAN id from 1 to 4094")
    return value


def _check_str(value: Any, field: str, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise InvalidChange(field, "must be a string" + (" or null" if nullable else ""))
    return value


def _check_port_field(key: str, value: Any, field: str) -> Any:
    if key in ("description", "type", "mac"):
        return _check_str(value, field)
    if key == "lag":
        return _check_str(value, field, nullable=True)
    if key == "enabled":
        if not isinstance(value, bool):
            raise InvalidChange(field, "must be true or false")
        return value
    if key == "mode":
        if value is not None and value not in PORT_MODES:
            raise InvalidChange(field, f"must be one of {', '.join(sorted(PORT_MODES))} or null")
        return value
    if key == "vlans":
        if not isinstance(value, list):
            raise InvalidChange(field, "must be a list of VLAN ids")
        # Sorted and deduplicated: the same set of VLANs is always the same bytes.
        return sorted({_vlan(v, f"{field}[{i}]") for i, v in enumerate(value)})
    if key == "native_vlan":
        return None if value is None else _vlan(value, field)
    if key == "speed":
        if not (isinstance(value, str) or (_is_int(value) and value >= 0)):
            raise InvalidChange(field, "must be a string or a non-negative integer")
        return value
    if key == "mtu":
        if not _is_int(value) or not 1 <= value <= 65535:
            raise InvalidChange(field, "must be an integer from 1 to 65535")
        return value
    if key == "peer":
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) != {"device", "port"}:
            raise InvalidChange(field, 'must be null or {"device": ..., "port": ...}')
        for sub in ("device", "port"):
            _check_str(value[sub], f"{field}.{sub}")
        return dict(value)
    raise InvalidChange(field, "unknown field")


PORT_FIELDS = frozenset(
    {"name", "description", "enabled", "mode", "vlans", "native_vlan", "speed", "mtu", "lag",
     "peer", "type", "mac"}
)


def validate_ports(ports: Any) -> list[dict]:
    """The port map: returns a normalized copy sorted in natural order of `name`."""
    if not isinstance(ports, list):
        raise InvalidChange("ports", "must be a list")
    seen: set[str] = set()
    result = []
    for i, port in enumerate(ports):
        where = f"ports[{i}]"
        if not isinstance(port, dict):
            raise InvalidChange(where, "must be an object")
        name = port.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidChange(f"{where}.name", "must be a non-empty string")
        if len(name) > MAX_PORT_NAME or _CONTROL.search(name):
            raise InvalidChange(f"{where}.name", f"at most {MAX_PORT_NAME} printable characters")
        if name in seen:
            raise InvalidChange(f"{where}.name", f"duplicate port name {name!r}")
        seen.add(name)
        clean = {"name": name}
        for key, value in port.items():
            if key != "name":
                clean[key] = _check_port_field(key, value, f"{where}.{key}")
        result.append(clean)
    result.sort(key=lambda p: natural_key(p["name"]))
    return result


PHOTO_FIELDS = frozenset({"sha256", "filename", "content_type", "size", "caption", "width", "height"})


def validate_photos(photos: Any) -> list[dict]:
    """Photo references (the bytes live in object storage under their sha256)."""
    if not isinstance(photos, list):
        raise InvalidChange("photos", "must be a list")
    seen: set[str] = set()
    result = []
    for i, photo in enumerate(photos):
        where = f"photos[{i}]"
        if not isinstance(photo, dict):
            raise InvalidChange(where, "must be an object")
        for key in photo:
            if key not in PHOTO_FIELDS:
                raise InvalidChange(f"{where}.{key}", "unknown field")
        sha = photo.get("sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise InvalidChange(f"{where}.sha256", "must be 64 lower-case hex digits")
        if sha in seen:
            raise InvalidChange(f"{where}.sha256", "duplicate photo")
        seen.add(sha)
        filename = photo.get("filename")
        if not isinstance(filename, str) or not filename or _CONTROL.search(filename):
            raise InvalidChange(f"{where}.filename", "must be a non-empty printable string")
        if photo.get("content_type") not in PHOTO_CONTENT_TYPES:
            raise InvalidChange(
                f"{where}.content_type", f"must be one of {', '.join(sorted(PHOTO_CONTENT_TYPES))}"
            )
        size = photo.get("size")
        if not _is_int(size) or size < 0:
            raise InvalidChange(f"{where}.size", "must be a non-negative integer")
        if "caption" in photo:
            _check_str(photo["caption"], f"{where}.caption")
        for dim in ("width", "height"):
            if dim in photo and (not _is_int(photo[dim]) or photo[dim] < 0):
                raise InvalidChange(f"{where}.{dim}", "must be a non-negative integer")
        result.append(dict(photo))
    return result
