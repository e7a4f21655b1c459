"""Writing many new objects at once as one pack file (git's pack format v2 with an index v2).

A batch import creates thousands of objects; as loose objects each is a file to create and
rename. Like `git fast-import`, we write them into a single pack instead, each object deflated
once. Like fast-import too, a config version may be stored as a delta against the previous
version of the same file (OFS_DELTA: its base is an earlier entry of the same pack, so the pack
stands alone): the caller knows which lines changed, so the delta costs almost nothing to make,
while deflating 100 KB of config again for every version was a large part of an import. Chains
stop at MAX_DEPTH (git's default pack.depth), as reading an object applies its whole chain. The pack and its index
are written under temporary names and renamed into place, index last, because git and libgit2
only look at a pack once its `.idx` exists; a crash leaves at most an ignored temporary file.
The caller makes the files durable (a filesystem barrier) before any ref names the objects.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import zlib
from pathlib import Path

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB = 1, 2, 3
OBJ_OFS_DELTA = 6
# Longest delta chain written (git's pack.depth default): past it an object is stored whole.
MAX_DEPTH = 50
_TYPE_NAMES = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob"}
# Level 1, as git uses for loose objects: storing is the hot path, repacking compresses harder.
COMPRESSION = 1


def object_id(kind: int, data: bytes) -> bytes:
    """The binary SHA-1 git names an object by."""
    header = b"%s %d\0" % (_TYPE_NAMES[kind], len(data))
    return hashlib.sha1(header + data).digest()  # noqa: S324 (git's object name, not security)


def _entry_header(kind: int, size: int) -> bytes:
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def _ofs_encoding(distance: int) -> bytes:
    """An OFS_DELTA's distance back to its base, in git's offset encoding."""
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.append(0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(reversed(out))


class PackWriter:
    """Collects objects (deduplicated by id) and writes them as one pack + index."""

    def __init__(self) -> None:
        self._objects: dict[bytes, tuple[int, bytes]] = {}  # id -> (type, data), in pack order
        self._deltas: dict[bytes, tuple[bytes, bytes]] = {}  # id -> (base id, delta)

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, oid: bytes) -> bool:
        return oid in self._objects

    def add(self, kind: int, data: bytes) -> bytes:
        oid = object_id(kind, data)
        if oid not in self._objects:
            self._objects[oid] = (kind, data)
        return oid

    def add_delta(self, oid: bytes, base: bytes, delta: bytes) -> None:
        """Offer `delta` (rebuilding object `oid` from object `base`, both added) as `oid`'s
        entry. It is used only if `base` comes earlier in the pack and its chain is short enough;
        otherwise the object is stored whole."""
        if oid in self._objects and base in self._objects and oid not in self._deltas:
            self._deltas[oid] = (base, delta)

    def write(self, objects_dir: Path) -> Path | None:
        """Write `objects/pack/pack-<sha>.{pack,idx}`; returns the .pack path (None if empty)."""
        if not self._objects:
            return None
        pack_dir = Path(objects_dir) / "pack"
        pack_dir.mkdir(exist_ok=True)
        ids = list(self._objects)
        body = bytearray(b"PACK" + struct.pack(">II", 2, len(ids)))
        offsets: dict[bytes, int] = {}
        crcs: dict[bytes, int] = {}
        depths: dict[bytes, int] = {}
        for oid in ids:
            offset = len(body)
            entry = None
            if oid in self._deltas:
                base, delta = self._deltas[oid]
                depth = depths.get(base, MAX_DEPTH) + 1  # a base not written yet: store whole
                if depth <= MAX_DEPTH:
                    depths[oid] = depth
                    entry = (_entry_header(OBJ_OFS_DELTA, len(delta)) + _ofs_encoding(offset - offsets[base])
                             + zlib.compress(delta, COMPRESSION))
            if entry is None:
                kind, data = self._objects[oid]
                depths[oid] = 0
                entry = _entry_header(kind, len(data)) + zlib.compress(data, COMPRESSION)
            offsets[oid] = offset
            crcs[oid] = zlib.crc32(entry)
            body += entry
        pack_sha = hashlib.sha1(body).digest()  # noqa: S324
        body += pack_sha
        index = _index(sorted(ids), offsets, crcs, pack_sha)
        name = f"pack-{pack_sha.hex()}"
        token = secrets.token_hex(8)
        final_pack, final_idx = pack_dir / f"{name}.pack", pack_dir / f"{name}.idx"
        tmp_pack, tmp_idx = pack_dir / f"tmp_pack_{token}", pack_dir / f"tmp_idx_{token}"
        try:
            for path, data in ((tmp_pack, body), (tmp_idx, index)):
                with open(path, "xb") as handle:
                    handle.write(data)
                os.chmod(path, 0o444)
            os.replace(tmp_pack, final_pack)
            os.replace(tmp_idx, final_idx)
        finally:
            for path in (tmp_pack, tmp_idx):
                path.unlink(missing_ok=True)
        return final_pack


def _index(ids: list[bytes], offsets: dict[bytes, int], crcs: dict[bytes, int], pack_sha: bytes) -> bytes:
    """Pack index v2: fan-out table, sorted ids, CRC32s, offsets (64-bit ones past 2 GiB)."""
    fanout = [0] * 256
    for oid in ids:
        fanout[oid[0]] += 1
    total = 0
    for i in range(256):
        total += fanout[i]
        fanout[i] = total
    small, large = [], []
    for oid in ids:
        offset = offsets[oid]
        if offset < 0x80000000:
            small.append(offset)
        else:
            small.append(0x80000000 | len(large))
            large.append(offset)
    out = bytearray(b"\xfftOc" + struct.pack(">I", 2))
    out += struct.pack(">256I", *fanout)
    out += b"".join(ids)
    out += struct.pack(f">{len(ids)}I", *(crcs[oid] for oid in ids))
    out += struct.pack(f">{len(ids)}I", *small)
    if large:
        out += struct.pack(f">{len(large)}Q", *large)
    out += pack_sha
    out += hashlib.sha1(out).digest()  # noqa: S324
    return bytes(out)
