"""Puts pictures side by side at one height (an input picture beside the preview render of its mesh, or a
sheet's views beside two previews), on grey where they are transparent, for README.md.

    .venv/bin/python tools/compose_readme_picture.py INPUT PREVIEW [MORE ...] -o docs/example_result.png [--height 360]
"""
import argparse

from PIL import Image


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pictures", nargs="+", help="left to right (at least two)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--height", type=int, default=360)
    args = p.parse_args()
    grey = (204, 204, 204)
    tiles = []
    if len(args.pictures) < 2:
        p.error("give at least two pictures")
    for path in args.pictures:
        im = Image.open(path).convert("RGBA")
        im = im.resize((round(im.width * args.height / im.height), args.height), Image.LANCZOS)
        tile = Image.new("RGBA", im.size, grey + (255,))
        tile.alpha_composite(im)
        tiles.append(tile)
    out = Image.new("RGB", (sum(t.width for t in tiles) + 8 * (len(tiles) - 1), args.height), (255, 255, 255))
    x = 0
    for t in tiles:
        out.paste(t.convert("RGB"), (x, 0))
        x += t.width + 8
    out.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
