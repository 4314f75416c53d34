#!/usr/bin/python3
"""A minimal openpi websocket client, written independently of openpi-client.

It speaks the same wire format (msgpack with numpy arrays as
{b"__ndarray__": True, b"data": bytes, b"dtype": str, b"shape": [dims]} and numpy
scalars as {b"__npgeneric__": True, b"data": item, b"dtype": str}), connects to a
server, reads its metadata, sends LIBERO-style observations and prints one JSON
object on stdout:

  {"metadata": {...}, "replies": [{"actions": [[...]], "dtype": "<f4",
   "shape": [chunk, 7], "server_timing": {...}}, ...]}

or, when the server answers with a text frame, {"metadata": ..., "error": "<text>"}.
Images follow fixed patterns that the C++ test reproduces:
  image[y, x, c] = (7 y + 3 x + 11 c) mod 256
  wrist[y, x, c] = (5 y + 13 x + 2 c + 1) mod 256
Exit codes: 0 success, 1 connection or protocol failure, 2 missing Python modules,
3 the server answered with an error text frame.
"""

import argparse
import asyncio
import json
import sys

try:
    import msgpack
    import numpy as np
    import websockets
except ImportError as error:
    print(
        f"openpi_client.py: missing Python module ({error}); run scripts/setup.sh "
        "(Debian packages python3-websockets python3-msgpack python3-numpy)",
        file=sys.stderr,
    )
    sys.exit(2)


def encode_numpy(obj):
    """msgpack `default` hook: numpy arrays and scalars to their tagged maps."""
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in ("O", "V", "c"):
        raise ValueError(f"dtype {obj.dtype} cannot be sent")
    if isinstance(obj, np.ndarray):
        contiguous = np.ascontiguousarray(obj)
        return {
            b"__ndarray__": True,
            b"data": contiguous.tobytes(),
            b"dtype": contiguous.dtype.str,
            b"shape": list(contiguous.shape),
        }
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot encode {type(obj).__name__}")


def decode_numpy(obj):
    """msgpack `object_hook`: tagged maps back to numpy arrays and scalars."""
    if obj.get(b"__ndarray__") is True:
        dtype = np.dtype(obj[b"dtype"])
        return np.frombuffer(obj[b"data"], dtype=dtype).reshape(obj[b"shape"])
    if obj.get(b"__npgeneric__") is True:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def pack(obj):
    return msgpack.packb(obj, default=encode_numpy, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, object_hook=decode_numpy, raw=False)


def to_json(obj):
    """Numpy values and bytes keys to plain JSON types."""
    if isinstance(obj, dict):
        return {(k.decode() if isinstance(k, bytes) else k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, bytes):
        return obj.decode(errors="replace")
    return obj


def make_observation(args, index):
    size = args.image_size
    y, x, c = np.meshgrid(np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    image = ((7 * y + 3 * x + 11 * c) % 256).astype(np.uint8)
    wrist = ((5 * y + 13 * x + 2 * c + 1) % 256).astype(np.uint8)
    state = np.array([float(v) for v in args.state.split(",")], dtype=np.float32) + index
    observation = {
        "observation/image": image,
        "observation/wrist_image": wrist,
        "prompt": args.prompt,
        # Keys a server must tolerate: a numpy scalar and a nested map.
        "observation/extra_scalar": np.float32(2.5),
        "episode": {"id": 3, "tags": ["libero", b"raw"]},
    }
    if not args.omit_state:
        observation["observation/state"] = state
    return observation


async def run(args):
    uri = f"ws://{args.host}:{args.port}{args.path}"
    headers = {"Authorization": f"Api-Key {args.api_key}"} if args.api_key else None
    async with websockets.connect(
        uri, compression=None, max_size=None, extra_headers=headers
    ) as connection:
        result = {"metadata": to_json(unpack(await connection.recv()))}
        replies = []
        for index in range(args.requests):
            await connection.send(pack(make_observation(args, index)))
            reply = await connection.recv()
            if isinstance(reply, str):
                result["error"] = reply
                print(json.dumps(result))
                return 3
            decoded = unpack(reply)
            actions = decoded["actions"]
            replies.append(
                {
                    "actions": actions.tolist(),
                    "dtype": actions.dtype.str,
                    "shape": list(actions.shape),
                    "server_timing": to_json(decoded.get("server_timing", {})),
                }
            )
        result["replies"] = replies
        print(json.dumps(result))
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--prompt", default="put the bowl on the plate")
    parser.add_argument("--state", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8",
                        help="8 comma-separated floats; request i sends state + i")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--omit-state", action="store_true",
                        help="leave out observation/state (the server must answer with an error)")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except Exception as error:  # connection refused, handshake rejected, bad reply
        print(f"openpi_client.py: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
