"""Make the README's pictures of the photo and several-people outputs from the bundled clips (tests/data; MEAD frames
are research-use only, see tests/data/README.md).

- docs/img/photo_annotated.png: ``annotated.png`` of ``emorec analyze`` on a photo of four real faces (the first frames
  of the bundled clips, side by side);
- docs/img/two_people_timeline.png: ``timeline.png`` of ``emorec analyze`` on two talking heads side by side with the
  left one's audio (one lane per person, speaking turns marked).

Usage: python scripts/readme_pictures.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def main() -> None:
    import cv2
    import numpy as np

    from emorec.io.media import iter_video_frames
    from emorec.pipelines.analyze import analyze
    from emorec.pipelines.image import analyze_image

    sys.path.insert(0, str(ROOT / "tools"))
    from bad_media import side_by_side

    def square(path: Path, size: int = 320) -> np.ndarray:
        img = next(iter_video_frames(path, max_side=None))[1]
        h, w = img.shape[:2]
        s = min(h, w)
        return cv2.resize(img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s], (size, size), interpolation=cv2.INTER_AREA)

    out = ROOT / "docs" / "img"
    work = Path(tempfile.mkdtemp())
    clips = [DATA / "talking_head.mp4", DATA / "mead_M030_sad.mp4", DATA / "mead_happy_noaudio.mp4", DATA / "mead_sad_silent_audio.mp4"]
    photo = work / "four_faces.png"
    cv2.imwrite(str(photo), cv2.cvtColor(np.concatenate([square(c) for c in clips], axis=1), cv2.COLOR_RGB2BGR))
    result = analyze_image(photo, work / "photo")
    annotated = cv2.imread(str(work / "photo" / "annotated.png"))
    cv2.imwrite(str(out / "photo_annotated.png"), cv2.resize(annotated, (annotated.shape[1] * 3 // 4, annotated.shape[0] * 3 // 4), interpolation=cv2.INTER_AREA))
    print(f"photo: {len(result.faces)} faces: {', '.join(result.faces.emotion)} → {out / 'photo_annotated.png'}")
    video = side_by_side(DATA / "talking_head.mp4", DATA / "mead_M030_sad.mp4", work / "two_people.mp4")
    analyze(video, work / "two", store=None)
    (out / "two_people_timeline.png").write_bytes((work / "two" / "timeline.png").read_bytes())
    print(f"two people → {out / 'two_people_timeline.png'}")


if __name__ == "__main__":
    main()
