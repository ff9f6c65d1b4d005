"""OpenCV as the kiosk uses it: import `cv2` from here (`from drivers.opencv import cv2`), not directly.

OpenCV runs its own loops (resizes, filters, FFTs) on a thread pool as wide as the machine. On the kiosk's two
cores that pool costs CPU without saving any: the QR decoder's region stage and the page packer call many small
operations, and the pool's threads wake and wait for each. Measured on this 2-core machine, one thread instead
of two: QR frames (the tuning set, 300 frames) 9.3 -> 7.0 ms median process CPU per frame, 19.1 -> 14.0 ms mean,
the same reads; page packing 0.205 -> 0.185 s CPU per page (tuning pages), the same bytes. The camera reader
already decodes on a thread of its own, and the UI has the other core."""
from __future__ import annotations

import cv2

cv2.setNumThreads(1)

__all__ = ["cv2"]
