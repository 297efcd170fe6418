#!/usr/bin/env bash
# Set up and run the main job on the embedded defaults: the shipped digits, characters and lines models
# read the sample images shipped in samples/. Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
echo "== inkread predict samples/digits/*.png (shipped digits model)"
inkread predict samples/digits/*.png
echo
echo "== inkread predict samples/letters/*.png --model characters --only letters"
inkread predict samples/letters/*.png --model characters --only letters
echo
echo "== inkread read samples/text/*.png (several characters per image)"
inkread read samples/text/*.png --model digits
echo
echo "== inkread read samples/text/touching-4158.png --model digits+lines (touching digits read whole by the line model)"
inkread read samples/text/touching-4158.png --model digits+lines
echo
echo "== inkread read samples/words/*.png --model lines --only letters (whole words, joined-up writing too)"
inkread read samples/words/*.png --model lines --only letters
