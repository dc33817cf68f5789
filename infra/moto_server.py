"""`python -m moto.server -H HOST -p PORT`, with infra.moto_patches applied first, so
the local stack's DynamoDB keeps DynamoDB's promises (see that module)."""

from __future__ import annotations

from infra import moto_patches


def main() -> None:
    moto_patches.apply()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
