"""Benchmark pages: "scans" of Vietnamese documents whose text, photo areas and contents are known exactly.

Why not only drivers.page_images: the benchmark needs the ground-truth text (for OCR accuracy) and the
position of every photo (for SSIM), so this generator returns both with the pixels, plus a list of what each
page holds (`BenchPage.holds`). What makes it a scan: a paper tone with uneven lighting, ink that is dark
grey not black, red seals (printed over what is under them, so a portrait under a seal stays visible),
real photographs (scikit-image's bundled pictures), optical blur, sensor noise and a skew; grey or colour,
150/200/300 dpi, A4 or A5. All text is invented; nothing personal.

Page kinds (KINDS): "faded" (a form with a faded, low-contrast photo: its greys squeezed into about 100
levels, as an old print photocopied), "form" (civil-status form with a 40x55 mm photo, signature and seal), "text" (the
same without a photo), "seal_photo" (a 3x4 cm portrait with the commune's red seal stamped across its
corner), "id_front" (photocopy of an ID card: tinted card with a fine guilloche, portrait, QR code, small
print), "id_back" (its back: small print, a red seal over a signature, the machine-readable zone),
"halftone" (a newspaper clipping: the photo as round halftone dots, 85-120 lines per inch), "texture"
(a site photo of brick, gravel or grass: detail JPEG pays for), "id_copy" (both sides of an ID card
photocopied onto one A4 sheet, as most dossiers carry it), "seal_text" (a letter whose seal, red or the
variation's second colour, is stamped across typed lines: the text under it must stay readable),
"portrait_doc" (a household-registration page: a halftoned portrait beside small print, a seal over both).
Any kind can be scanned low-contrast (`PageSpec.contrast` < 1: faint toner, grey paper, as a photocopy of a
photocopy) and skewed by up to 4 degrees.

The sets, built by `set_page(name, index)`:
  * TUNING_SET (seed 7, the TUNING variation): the packer's thresholds and qualities are chosen on it;
  * SEEN_SET (seed 1013, the SEEN variation): the first held-out set; it was looked at page by page during
    issue 13, so it no longer counts as held out and is reported as "seen";
  * PROBE_SET (seed 5113, the PROBE variation; issue 13, fourth round): more pages of the kinds that failed
    on held-out and fresh, so those can be studied without looking at a held-out page; tuned on;
  * PROBE2_SET (seed 5557, the PROBE2 variation; issue 13, fifth round): skewed grey pages (halftones at
    150-300 dpi, forms with a photo at 150-200 dpi, faded photos, portraits on documents and an ID card;
    0.5-3 degrees both ways), two skewed brick walls and three level grey controls; tuning/seen/probe
    pictures only; tuned on;
  * PROBE3_SET (seed 8123, the PROBE3 variation; issue 13, seventh round): grey ID card fronts and copies at
    150 and 200 dpi, level and skewed 0.5-3 degrees both ways, each with its own card tint (`PageSpec.tint`,
    7-25 grey levels below the paper), contrast and noise (`PageSpec.noise`); two colour and two 300 dpi
    controls; tuning/seen/probe pictures only; tuned on;
  * PROBE4_SET (seed 9041, the PROBE4 variation; issue 13, eighth round): 24 ID fronts and copies below 250 dpi
    drawn at random (grey or colour, tint, contrast, skew, noise), so a change to how ID cards are packed is
    judged on more pages than probe3's; tuned on;
  * HELDOUT2_SET (seed 6271, the HELDOUT2 variation; issue 13, fourth round): made once the changes tuned on
    the probe set were final, run only to report (same rule as below);
  * HELDOUT3_SET (seed 7417, the HELDOUT3 variation; issue 13, fifth round): made once the changes tuned on
    probe2 were final, run only to report (same rule as below); its pictures and textures are made up here
    (`_made_picture`, `_made_texture`) or the Shepp-Logan phantom, which no other set uses;
  * HELDOUT_SET (seed 2027, the HELDOUT variation: photos, portraits and textures no other set uses, other
    halftone screens, paper, inks, seal red, card tint, more noise and blur, fainter faded photos, other
    resolution/size/skew mixes).
RULE: the held-out set is only ever run to report figures. No constant or rule in kiosk.domain.pages may be
changed because of a held-out figure; a change is tried on the tuning set, then both sets are reported.
If a held-out figure is bad, say so; do not tune it away (make new held-out pages with a new seed and new
variations if the held-out set ever has to be looked at in detail).

Photo boxes are in pixels of the level page; a skewed page carries `level`, the same scan without the skew
(same noise), against which the packed (deskewed) page is compared.
"""
from __future__ import annotations

import dataclasses
import math
import random
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SERIF = "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"
SERIF_BOLD = "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"
SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

_SENTENCES = (
    "Kính gửi Ủy ban nhân dân xã Tân Lập, tỉnh Lào Cai.",
    "Họ, chữ đệm, tên người yêu cầu: Trần Thị Bích Ngọc.",
    "Nơi cư trú: thôn Hòa Bình, xã Quảng Phú, tỉnh Nghệ An.",
    "Giấy tờ tùy thân: căn cước do Bộ Công an cấp ngày mười lăm tháng tám.",
    "Quan hệ với người được khai sinh: mẹ đẻ.",
    "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây.",
    "Họ, chữ đệm, tên: Nguyễn Hữu Phúc. Giới tính: Nam.",
    "Ngày, tháng, năm sinh: ngày mười hai tháng ba năm hai nghìn hai mươi sáu.",
    "Nơi sinh: Trạm y tế xã Mường Khương, tỉnh Lào Cai.",
    "Dân tộc: Kinh. Quốc tịch: Việt Nam. Quê quán: Thanh Hóa.",
    "Họ, chữ đệm, tên người mẹ: Trần Thị Bích Ngọc, dân tộc Tày.",
    "Họ, chữ đệm, tên người cha: Nguyễn Văn Dũng, dân tộc Kinh.",
    "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật.",
    "Tôi chịu trách nhiệm trước pháp luật về cam đoan của mình.",
    "Đề nghị cấp bản sao trích lục khai sinh: có, số lượng hai bản.",
    "Hồ sơ được tiếp nhận tại bộ phận một cửa, thời hạn giải quyết trong ngày.",
    "Trường hợp nhận hồ sơ sau mười lăm giờ thì trả kết quả trong ngày làm việc tiếp theo.",
    "Người làm đơn ký, ghi rõ họ, chữ đệm, tên và đóng dấu xác nhận của cơ quan.",
    "Giấy chứng sinh do cơ sở y tế cấp, bản chính, kèm theo tờ khai này.",
    "Lệ phí đăng ký khai sinh đúng hạn được miễn theo quy định hiện hành.",
    "Ghi chú: các mục có dấu sao là bắt buộc, viết chữ in hoa có dấu.",
    "Số điện thoại liên hệ và địa chỉ thư điện tử không bắt buộc khai.",
)


# ------------------------------------------------------------------------------------------ page kinds
KINDS = ("form", "text", "seal_photo", "id_front", "id_back", "halftone", "texture", "faded", "id_copy",
         "seal_text", "portrait_doc")
A4, A5 = (210.0, 297.0), (148.0, 210.0)


@dataclasses.dataclass(frozen=True)
class Variation:
    """What differs between the tuning set and the held-out set besides the seed: where the pictures come
    from and how the paper, inks, screens and scanner look."""

    photos: tuple[str, ...]  # scikit-image pictures for ordinary photographs
    portraits: tuple[str, ...]  # ... for portraits (ID card, 3x4 photo on a form)
    textures: tuple[str, ...]  # ... for textured photos (site photos: brick, gravel, grass)
    halftone: tuple[tuple[float, float], ...]  # newspaper screens: (lines per inch, angle in degrees)
    paper: tuple[int, int, int]
    ink: tuple[int, int, int]
    seal: tuple[int, int, int]
    tint: tuple[int, int, int]  # ID card background
    noise: float
    blur: float
    faded: tuple[int, int] = (110, 215)  # the grey range a faded photo ("faded" pages) is squeezed into
    seal2: tuple[int, int, int] = (40, 60, 170)  # a second seal ink ("seal_text" pages alternate): violet-blue


TUNING = Variation(photos=("camera", "astronaut", "coffee", "moon"), portraits=("astronaut", "camera"),
                   textures=("brick", "tiles"), halftone=((100.0, 45.0), (75.0, 30.0)), paper=(238, 236, 230),
                   ink=(36, 36, 40), seal=(196, 40, 44), tint=(214, 228, 222), noise=3.0, blur=0.8, faded=(110, 215))
# The first held-out set (seed 1013): looked at page by page while issue 13's packing was developed, so it is
# no longer held out; it is reported as the "seen" set, next to the tuning set.
SEEN = Variation(photos=("rocket", "chelsea", "immunohistochemistry", "clock"),
                 portraits=("chelsea", "coins"), textures=("gravel", "grass"),
                 halftone=((85.0, 15.0), (120.0, 75.0)), paper=(243, 240, 232), ink=(28, 30, 44),
                 seal=(208, 32, 56), tint=(233, 220, 214), noise=4.0, blur=1.0, faded=(120, 210))
# The held-out set: pictures none of the other sets uses (a motorbike, a deep-sky field, a retina, cells under a
# microscope, two made-up textures: sand and woven cloth), other halftone screens (65 and 133 lpi), paper, inks,
# seal red, card tint, noise, blur, and fainter faded photos.
HELDOUT = Variation(photos=("motorcycle", "hubble", "retina", "cell"), portraits=("motorcycle", "hubble"),
                    textures=("sand", "weave"), halftone=((65.0, 45.0), (133.0, 0.0)), paper=(240, 238, 226),
                    ink=(44, 40, 38), seal=(186, 28, 36), tint=(222, 226, 236), noise=4.5, blur=1.1,
                    faded=(125, 212))


@dataclasses.dataclass(frozen=True)
class PageSpec:
    kind: str
    dpi: int
    size_mm: tuple[float, float]
    colour: bool
    skew_deg: float
    contrast: float = 1.0  # < 1: a faint, low-contrast scan (ink and paper pulled towards mid-grey)
    tint: tuple[int, int, int] | None = None  # this page's ID card tint instead of the variation's (probe3)
    noise: float | None = None  # ...and its sensor noise


# The tuning set: the packer's thresholds and qualities are chosen on these pages.
TUNING_SEED = 7
TUNING_SET = (
    PageSpec("form", 300, A4, False, 0.0),
    PageSpec("text", 300, A5, False, 0.6),
    PageSpec("seal_photo", 200, A4, True, 0.0),
    PageSpec("id_front", 300, A5, True, 0.0),
    PageSpec("id_back", 200, A5, False, -0.7),
    PageSpec("halftone", 300, A4, False, 0.0),
    PageSpec("texture", 150, A4, True, 0.0),
    PageSpec("form", 150, A5, True, 1.5),
    PageSpec("id_front", 200, A4, False, 0.9),
    PageSpec("seal_photo", 300, A4, False, -1.2),
    PageSpec("faded", 300, A4, False, 0.0),
    PageSpec("faded", 150, A4, True, 0.6),
    PageSpec("texture", 200, A4, False, 0.4),
    PageSpec("halftone", 200, A4, False, -0.5),
    PageSpec("seal_photo", 300, A4, True, 0.5),
    PageSpec("form", 300, A4, False, 0.0),
    # widened in issue 13's second round: ID copies on A4, seals over text, portraits on documents,
    # low-contrast scans, skews up to 4 degrees
    PageSpec("id_copy", 300, A4, True, 0.0),
    PageSpec("id_copy", 200, A4, False, -2.4),
    PageSpec("seal_text", 300, A4, False, 0.0),
    PageSpec("seal_text", 200, A4, True, 1.8, contrast=0.65),
    PageSpec("portrait_doc", 300, A4, True, 3.5),
    PageSpec("portrait_doc", 200, A4, False, 0.0, contrast=0.7),
    PageSpec("id_front", 300, A5, False, -4.0),
    PageSpec("text", 300, A4, False, 2.9, contrast=0.6),
)
# The first held-out set, now "seen" (see SEEN above): reported, and allowed to inform changes like the
# tuning set.
SEEN_SEED = 1013
SEEN_SET = (
    PageSpec("form", 200, A4, True, -0.9),
    PageSpec("text", 150, A4, False, 0.0),
    PageSpec("seal_photo", 300, A4, True, 0.0),
    PageSpec("id_front", 150, A5, False, 1.1),
    PageSpec("id_back", 300, A5, True, 0.0),
    PageSpec("halftone", 200, A4, True, 0.0),
    PageSpec("texture", 300, A4, False, 0.5),
    PageSpec("form", 300, A5, False, 0.0),
    PageSpec("id_front", 300, A4, True, -0.6),
    PageSpec("halftone", 150, A4, False, 0.8),
)
# The held-out set: its own seed, its own pictures, screens, inks and noise (HELDOUT), other resolutions,
# sizes and skews. Rule: it is only ever run to report; no threshold or quality in kiosk.domain.pages is
# changed because of a held-out figure (a change is tried on the tuning set and then reported on all sets).
HELDOUT_SEED = 2027
HELDOUT_SET = (
    PageSpec("form", 300, A4, False, 0.7),
    PageSpec("seal_photo", 200, A4, False, 0.0),
    PageSpec("seal_photo", 300, A4, True, -0.5),
    PageSpec("id_front", 200, A5, True, 0.0),
    PageSpec("id_front", 300, A4, False, 1.3),
    PageSpec("halftone", 300, A4, False, 0.0),
    PageSpec("halftone", 200, A4, False, -0.6),
    PageSpec("texture", 200, A4, True, 0.0),
    PageSpec("faded", 300, A4, False, 0.0),
    PageSpec("faded", 200, A4, True, 0.8),
    PageSpec("text", 200, A4, True, -0.4),
)
# The fresh held-out set (issue 13, second round): made when the page kinds were widened (ID copies on A4,
# seals over text, portraits on documents, low-contrast scans, skews up to 4 degrees). Its own seed and
# variation (pictures, screens, inks, second seal colour, noise); same rule as HELDOUT: report only. The
# HELDOUT set's figures had been quoted in the issue, so this is the set nobody tuning pages.py has looked at.
FRESH = Variation(photos=("rocket", "clock", "colorwheel", "pebbles"), portraits=("coins", "cat"),
                  textures=("bark", "pebbles"), halftone=((110.0, 60.0), (90.0, 22.5)), paper=(236, 233, 224),
                  ink=(50, 46, 52), seal=(200, 48, 60), tint=(228, 222, 200), noise=5.0, blur=1.2,
                  faded=(118, 206), seal2=(70, 40, 150))
FRESH_SEED = 4049
FRESH_SET = (
    PageSpec("id_copy", 300, A4, False, 2.2),
    PageSpec("id_copy", 200, A4, True, -0.8),
    PageSpec("seal_text", 300, A4, True, 0.0),
    PageSpec("seal_text", 200, A4, False, 3.6, contrast=0.6),
    PageSpec("portrait_doc", 300, A4, False, -1.7),
    PageSpec("portrait_doc", 200, A4, True, 0.0, contrast=0.7),
    PageSpec("id_front", 300, A5, True, -3.1),
    PageSpec("form", 200, A4, False, 0.0, contrast=0.6),
    PageSpec("halftone", 300, A4, False, 2.7),
    PageSpec("texture", 300, A4, True, -0.6),
    PageSpec("faded", 200, A4, False, 1.2),
    PageSpec("seal_photo", 300, A4, True, 4.0),
)
# The probe set (issue 13, fourth round): more pages of the classes that failed on held-out and fresh
# (skewed photos, 150/200 dpi, colour ID fronts and copies, halftones, faded photos, textures), made so they
# can be looked at page by page without looking at a held-out page. Pictures of the tuning and seen sets
# only, its own seed, paper, inks, screens, noise. Tuned on, like the tuning set.
PROBE = Variation(photos=("camera", "rocket", "coffee", "clock"), portraits=("chelsea", "astronaut", "camera"),
                  textures=("gravel", "tiles", "grass"), halftone=((95.0, 40.0), (120.0, 10.0)),
                  paper=(241, 237, 228), ink=(40, 38, 46), seal=(204, 44, 52), tint=(226, 218, 230), noise=4.2,
                  blur=1.05, faded=(122, 208), seal2=(50, 50, 160))
PROBE_SEED = 5113
PROBE_SET = (
    PageSpec("seal_photo", 300, A4, True, -0.8),
    PageSpec("seal_photo", 200, A4, True, 1.4),
    PageSpec("halftone", 200, A4, False, 0.9),
    PageSpec("halftone", 150, A4, False, -0.7),
    PageSpec("halftone", 300, A4, True, 1.1),
    PageSpec("form", 300, A4, False, 1.0),
    PageSpec("form", 200, A4, True, -1.3),
    PageSpec("id_front", 200, A5, True, 0.0),
    PageSpec("id_front", 200, A4, True, 0.7),
    PageSpec("id_front", 150, A5, True, 0.0),
    PageSpec("id_copy", 200, A4, True, 0.0),
    PageSpec("id_copy", 300, A4, False, 1.5),
    PageSpec("id_copy", 150, A4, True, -0.6),
    PageSpec("texture", 300, A4, True, 0.0),
    PageSpec("texture", 200, A4, True, 0.8),
    PageSpec("faded", 200, A4, True, 0.0),
    PageSpec("faded", 300, A4, False, -0.9),
    PageSpec("faded", 150, A4, False, 0.0),
    PageSpec("portrait_doc", 150, A4, False, 1.2),
    PageSpec("seal_text", 200, A4, True, -1.0),
)
# The second fresh held-out set (issue 13, fourth round), made after the probe-set changes were final and run
# once, to report. Its own seed and variation: pictures no set shows as they are (mirrored, zoomed or turned
# crops, a retina scan, two made-up textures: cork and linen), other screens, paper, inks, tint, noise.
# Same rule as HELDOUT: report only.
HELDOUT2 = Variation(photos=("coffee:flip", "rocket:zoom", "chelsea:rot", "microaneurysms"),
                     portraits=("astronaut:flip", "coins:zoom", "chelsea:flip"), textures=("cork", "linen"),
                     halftone=((80.0, 30.0), (105.0, 50.0)), paper=(244, 241, 235), ink=(34, 40, 50),
                     seal=(192, 36, 48), tint=(218, 230, 214), noise=4.8, blur=1.15, faded=(115, 212),
                     seal2=(60, 50, 140))
HELDOUT2_SEED = 6271
HELDOUT2_SET = (
    PageSpec("seal_photo", 300, A4, True, 1.1),
    PageSpec("seal_photo", 200, A4, False, 0.0),
    PageSpec("id_front", 200, A5, True, -0.9),
    PageSpec("id_front", 150, A5, True, 0.0),
    PageSpec("id_copy", 200, A4, True, 1.3),
    PageSpec("id_copy", 300, A4, True, 0.0),
    PageSpec("halftone", 200, A4, True, 0.0),
    PageSpec("halftone", 300, A4, False, -1.6),
    PageSpec("form", 300, A4, True, 0.8),
    PageSpec("form", 150, A4, False, -1.1),
    PageSpec("texture", 300, A4, True, 0.6),
    PageSpec("texture", 150, A4, False, 0.0),
    PageSpec("faded", 200, A4, False, -0.7),
    PageSpec("faded", 300, A4, True, 0.0),
    PageSpec("portrait_doc", 200, A4, True, -2.0),
    PageSpec("text", 200, A4, False, 1.0),
)
# The second probe set (issue 13, fifth round): skewed GREY pages, the kind whose photos heldout2 missed
# (halftones at 150-300 dpi, forms with a photo at 150-200 dpi, faded photos, portraits on documents; skews
# 0.5-3 degrees both ways) and a few level grey controls. Pictures, portraits and textures of the tuning,
# seen and probe sets only; its own seed, screens, paper, inks, noise. Tuned on, like the tuning set.
PROBE2 = Variation(photos=("moon", "immunohistochemistry", "astronaut", "camera"),
                   portraits=("coins", "astronaut", "chelsea"), textures=("grass", "brick"),
                   halftone=((85.0, 45.0), (100.0, 20.0)), paper=(239, 238, 231), ink=(38, 36, 42),
                   seal=(200, 38, 50), tint=(220, 224, 216), noise=4.4, blur=1.1, faded=(118, 210),
                   seal2=(54, 48, 150))
PROBE2_SEED = 5557
PROBE2_SET = (
    PageSpec("halftone", 300, A4, False, -1.4),
    PageSpec("halftone", 300, A4, False, 2.2),
    PageSpec("halftone", 200, A4, False, -0.8),
    PageSpec("halftone", 150, A4, False, 1.6),
    PageSpec("form", 150, A4, False, -1.3),
    PageSpec("form", 150, A4, False, 0.7),
    PageSpec("form", 200, A4, False, -2.1),
    PageSpec("faded", 200, A4, False, -0.6),
    PageSpec("faded", 200, A4, False, 1.8),
    PageSpec("faded", 300, A4, False, 2.6),
    PageSpec("faded", 150, A4, False, -1.0),
    PageSpec("portrait_doc", 200, A4, False, 1.3),
    PageSpec("portrait_doc", 150, A4, False, -2.8),
    PageSpec("id_front", 200, A4, False, -1.7),
    PageSpec("halftone", 300, A4, False, 0.0),  # level grey controls
    PageSpec("form", 200, A4, False, 0.0),
    PageSpec("faded", 200, A4, False, 0.0),
    PageSpec("halftone", 150, A4, False, -0.9),  # a dark, flat picture (the moon): mid-tones dense in a corner
    PageSpec("halftone", 150, A4, False, 2.4),
    PageSpec("texture", 150, A4, False, -1.2),  # a brick wall as dark as the text
    PageSpec("texture", 200, A4, False, 0.9),
)
# The third fresh held-out set (issue 13, fifth round), made after the probe2 changes were final and run once,
# to report. Pictures no other set uses: made-up photographs (a sky over hills, clouds, a shaded head and
# shoulders) and the Shepp-Logan phantom, made-up textures (stucco, wooden planks), other screens (70 and 115
# lpi), paper, inks, tint, noise; the same kinds mix as HELDOUT2. Same rule as HELDOUT: report only.
HELDOUT3 = Variation(photos=("terrain", "clouds", "phantom", "face"), portraits=("face", "phantom"),
                     textures=("stucco", "planks"), halftone=((70.0, 15.0), (115.0, 35.0)), paper=(237, 235, 228),
                     ink=(42, 38, 36), seal=(190, 44, 40), tint=(230, 224, 210), noise=4.6, blur=1.1,
                     faded=(120, 214), seal2=(48, 56, 150))
HELDOUT3_SEED = 7417
HELDOUT3_SET = (
    PageSpec("seal_photo", 300, A4, False, -0.9),
    PageSpec("seal_photo", 200, A4, True, 0.0),
    PageSpec("id_front", 200, A5, False, 1.2),
    PageSpec("id_front", 300, A5, True, 0.0),
    PageSpec("id_copy", 150, A4, False, -1.0),
    PageSpec("id_copy", 300, A4, True, 0.6),
    PageSpec("halftone", 300, A4, False, 1.9),
    PageSpec("halftone", 200, A4, True, 0.0),
    PageSpec("form", 200, A4, False, -1.5),
    PageSpec("form", 150, A4, True, 0.0),
    PageSpec("texture", 200, A4, False, 1.0),
    PageSpec("texture", 300, A4, True, 0.0),
    PageSpec("faded", 150, A4, False, 2.3),
    PageSpec("faded", 300, A4, True, -0.5),
    PageSpec("portrait_doc", 300, A4, False, -1.2),
    PageSpec("text", 150, A4, False, -0.8),
)
# The third probe set (issue 13, seventh round): GREY ID card fronts and copies at 150 and 200 dpi, the class
# of heldout3's grey 200 dpi ID front (whose page is not looked at), level and skewed 0.5-3 degrees both ways,
# each page with its own card tint (7 to 25 grey levels below the paper), contrast and noise; two colour and
# two 300 dpi controls. Portraits and pictures of the tuning, seen and probe sets only; its own seed, paper,
# inks, noise. Tuned on, like the tuning set.
PROBE3 = Variation(photos=("camera", "coffee", "rocket", "clock"),
                   portraits=("camera", "coins", "astronaut", "chelsea"), textures=("gravel", "brick"),
                   halftone=((90.0, 30.0), (110.0, 60.0)), paper=(240, 237, 229), ink=(38, 38, 44),
                   seal=(198, 42, 50), tint=(218, 226, 214), noise=4.5, blur=1.1, faded=(120, 210), seal2=(52, 50, 150))
PROBE3_SEED = 8123
PROBE3_SET = (
    PageSpec("id_front", 200, A5, False, 1.2),
    PageSpec("id_front", 200, A4, False, -0.8, tint=(232, 230, 222)),  # a tint 7 levels below the paper
    PageSpec("id_front", 200, A5, False, 0.0, tint=(224, 214, 228)),
    PageSpec("id_front", 200, A5, False, -2.6, contrast=0.8, tint=(212, 222, 232)),
    PageSpec("id_front", 150, A5, False, 0.6, tint=(228, 226, 208)),
    PageSpec("id_front", 150, A4, False, -1.9, tint=(206, 216, 210), noise=5.5),
    PageSpec("id_front", 150, A5, False, 0.0, contrast=0.75),
    PageSpec("id_front", 200, A5, False, 2.9, tint=(206, 216, 210), noise=3.2),
    PageSpec("id_front", 200, A4, False, 0.0, noise=5.8),
    PageSpec("id_copy", 200, A4, False, 1.5),
    PageSpec("id_copy", 200, A4, False, -0.5, contrast=0.85, tint=(228, 226, 208)),
    PageSpec("id_copy", 150, A4, False, 0.0, tint=(224, 214, 228)),
    PageSpec("id_copy", 150, A4, False, -2.2, tint=(212, 222, 232), noise=5.0),
    PageSpec("id_front", 200, A5, True, 1.0),  # colour controls
    PageSpec("id_copy", 150, A4, True, -0.7, tint=(224, 214, 228)),
    PageSpec("id_front", 300, A5, False, 1.4),  # 300 dpi controls
    PageSpec("id_copy", 300, A4, False, -0.9, tint=(228, 226, 208)),
)
# probe4 (2026-12-03, seed 9041): 24 ID fronts and copies below 250 dpi drawn at random (grey three times in four,
# card tint 6-26 levels below the paper, contrast 0.7-1, skew up to 3 degrees either way in half the pages, noise
# 3-6), to judge a change to the ID-card tile on more pages than probe3's: tesseract's stray letters from a QR
# code move a page's OCR by 1-5 points either way on changes that leave the card's print as it was, so single
# pages cannot tell. Tuning-side pictures; tuned on.
PROBE4 = dataclasses.replace(PROBE3, paper=(241, 239, 233), ink=(34, 36, 42), noise=4.0, blur=1.0)
PROBE4_SEED = 9041


def _probe4_set() -> tuple[PageSpec, ...]:
    rng = random.Random(PROBE4_SEED)
    specs = []
    for n in range(24):
        paper = PROBE4.paper
        depth = rng.randint(6, 26)
        tint = tuple(max(0, min(255, c - depth + rng.randint(-8, 8))) for c in paper)
        specs.append(PageSpec("id_front" if n % 3 else "id_copy", rng.choice((150, 200, 200)),
                              A5 if rng.random() < 0.5 and n % 3 else A4, rng.random() < 0.25,
                              round(rng.uniform(-3.0, 3.0), 1) if rng.random() < 0.5 else 0.0,
                              contrast=round(rng.uniform(0.7, 1.0), 2) if rng.random() < 0.5 else 1.0,
                              tint=tint, noise=round(rng.uniform(3.0, 6.0), 1)))
    return tuple(specs)


PROBE4_SET = _probe4_set()

SETS = {"tuning": (TUNING_SET, TUNING_SEED, TUNING), "seen": (SEEN_SET, SEEN_SEED, SEEN),
        "heldout": (HELDOUT_SET, HELDOUT_SEED, HELDOUT), "fresh": (FRESH_SET, FRESH_SEED, FRESH),
        "probe": (PROBE_SET, PROBE_SEED, PROBE), "heldout2": (HELDOUT2_SET, HELDOUT2_SEED, HELDOUT2),
        "probe2": (PROBE2_SET, PROBE2_SEED, PROBE2), "heldout3": (HELDOUT3_SET, HELDOUT3_SEED, HELDOUT3),
        "probe3": (PROBE3_SET, PROBE3_SEED, PROBE3), "probe4": (PROBE4_SET, PROBE4_SEED, PROBE4)}


@dataclasses.dataclass(frozen=True)
class BenchPage:
    image: Image.Image  # mode "L" (grey scan) or "RGB" (colour scan), info["dpi"] set
    text: str  # ground truth: the printed lines, NFC, joined with "\n"
    photo_box: tuple[int, int, int, int] | None  # the first of photo_boxes (older callers)
    dpi: int
    kind: str = "form"
    photo_boxes: tuple[tuple[int, int, int, int], ...] = ()  # x, y, w, h in pixels of the level page
    colour: bool = False
    skew_deg: float = 0.0
    size_mm: tuple[float, float] = A4
    holds: tuple[str, ...] = ()  # what the page carries, e.g. ("text", "photo:camera", "seal:red", "qr")
    level: Image.Image | None = None  # the same scan without the skew (same noise): the quality reference

    @property
    def reference(self) -> Image.Image:
        return self.level if self.level is not None else self.image

    @property
    def scan_boxes(self) -> tuple[tuple[int, int, int, int], ...]:
        """The photo boxes as they lie on the (skewed) scan itself: for each photo, the largest box of its
        proportions and centre that fits inside the turned photo (PIL turns about the page's centre,
        counter-clockwise for a positive angle). For a level page, `photo_boxes`."""
        if not self.skew_deg:
            return self.photo_boxes
        t = math.radians(self.skew_deg)
        c, s = math.cos(t), abs(math.sin(t))
        cx, cy = self.image.width / 2, self.image.height / 2
        out = []
        for x, y, w, h in self.photo_boxes:
            px, py = x + w / 2 - cx, y + h / 2 - cy
            qx, qy = cx + px * c + py * math.sin(t), cy - px * math.sin(t) + py * c
            a, b = w / 2, h / 2
            shrink = min(a / (a * c + b * s), b / (a * s + b * c))
            a, b = a * shrink, b * shrink
            out.append((math.ceil(qx - a), math.ceil(qy - b), math.floor(2 * a) - 1, math.floor(2 * b) - 1))
        return tuple(out)


def set_page(set_name: str, index: int, noise: float | None = None) -> BenchPage:
    """Page `index` of one of SETS (by name: "tuning", "seen", "probe", "probe2", "heldout", ...); `noise=0` gives
    the same page through the scanner's optics (lamp, blur, skew) without its sensor noise."""
    specs, seed, variation = SETS[set_name]
    spec = specs[index]
    if spec.tint is not None:
        variation = dataclasses.replace(variation, tint=spec.tint)
    return make_page(index, kind=spec.kind, dpi=spec.dpi, size_mm=spec.size_mm, colour=spec.colour,
                     skew_deg=spec.skew_deg, seed=seed, variation=variation, with_level=True,
                     contrast=spec.contrast, noise=spec.noise if noise is None else noise)


def _made_texture(name: str, size: int = 512) -> np.ndarray:
    """Textures no bundled picture has: "sand" (grains at several scales), "weave" (woven cloth), for the
    tuning set "tiles" (a tiled floor: grout lines, speckled tiles), for the fresh set "bark" and "pebbles",
    for the second fresh held-out set "cork" (granules in a binder) and "linen" (a coarse, uneven weave)."""
    from scipy import ndimage

    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "stucco":  # plaster: blobs at a few scales, flattened tops, fine grit
        bumps = sum(ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), s) * w for s, w in ((1.5, 1.0), (5.0, 2.5)))
        grit = ndimage.gaussian_filter(rng.normal(0, 0.3, (size, size)), 0.5)
        arr = np.minimum(bumps, np.percentile(bumps, 70)) + grit
    elif name == "planks":  # wooden boards: grain rings bent by noise, dark gaps between boards
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        bend = ndimage.gaussian_filter(rng.normal(0, 6, (size, size)), (24.0, 3.0))
        arr = 0.5 + 0.35 * np.sin((xx % 64) / 2.3 + bend + (xx // 64) * 1.7) + 0.1 * ((xx // 64) % 2)
        arr = np.where((xx % 64) < 3, 0.05, arr) + ndimage.gaussian_filter(rng.normal(0, 0.2, (size, size)), 0.8)
    elif name == "cork":
        grains = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 3.0)
        arr = np.tanh(grains * 4) + ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 0.8) * 0.5
    elif name == "linen":
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        warp = np.sin(xx / 3.1 + ndimage.gaussian_filter(rng.normal(0, 3, (size, size)), 4.0)) ** 2
        weft = np.sin(yy / 2.7 + ndimage.gaussian_filter(rng.normal(0, 3, (size, size)), 4.0)) ** 2
        arr = warp * 0.6 + weft * 0.4 + ndimage.gaussian_filter(rng.normal(0, 0.5, (size, size)), 0.7)
    elif name == "sand":
        arr = sum(ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), s) * w
                  for s, w in ((0.7, 1.0), (2.0, 2.0), (6.0, 3.0)))
    elif name == "tiles":
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        grout = ((xx % 40) < 4) | ((yy % 40) < 4)
        arr = np.where(grout, 0.2, 0.7 + 0.1 * ((xx // 40 + yy // 40) % 2)) + rng.normal(0, 0.12, (size, size))
    elif name == "bark":  # tree bark: long vertical ridges, cracks, fine grain
        ridges = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), (18.0, 1.5))
        cracks = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), (6.0, 0.8)) < -0.25
        arr = ridges * 3 - cracks * 1.5 + ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 0.6) * 0.4
    elif name == "pebbles":  # a gravel yard: round stones of many tones, dark gaps
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        arr = np.full((size, size), 0.15)
        for _ in range(260):
            cx, cy, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(6, 26)
            d = ((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2
            arr = np.where(d < 1, rng.uniform(0.3, 1.0) * (1 - 0.4 * d), arr)
        arr = arr + ndimage.gaussian_filter(rng.normal(0, 0.15, (size, size)), 0.7)
    else:  # weave
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        over = (np.floor(xx / 6) + np.floor(yy / 6)) % 2
        arr = np.where(over > 0, np.sin(yy / 6 * math.pi) ** 2, np.sin(xx / 6 * math.pi) ** 2)
        arr = arr + ndimage.gaussian_filter(rng.normal(0, 0.6, (size, size)), 1.0)
    arr = (arr - arr.min()) / (np.ptp(arr) or 1.0)
    tone = np.clip(40 + 190 * arr, 0, 255)
    return np.dstack([tone * 0.95, tone * 0.85, tone * 0.7]).astype(np.uint8)


def _made_picture(name: str, size: int = 512) -> np.ndarray:
    """Made-up photographs (RGB) for the third held-out set, which no bundled picture shows: "terrain" (a sky
    over fractal hills), "clouds" (a cloudy sky over a dark horizon), "face" (a shaded head and shoulders on a
    graded backdrop, as an ID portrait)."""
    from scipy import ndimage

    rng = np.random.default_rng(sum(map(ord, name)) + 17)
    fbm = lambda scales: sum(ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), s) * s  # noqa: E731
                             for s in scales)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    if name == "terrain":
        ridge = 0.45 + 0.12 * ndimage.gaussian_filter1d(rng.normal(0, 1, size), 20) * 8
        ground = fbm((1, 3, 9, 27))
        ground = (ground - ground.min()) / np.ptp(ground)
        land = yy > ridge[None, :]
        sky = np.dstack([150 + 60 * yy, 180 + 50 * yy, 235 - 20 * yy])
        earth = np.dstack([60 + 110 * ground, 90 + 100 * ground, 40 + 60 * ground]) * (0.7 + 0.5 * yy)[..., None]
        arr = np.where(land[..., None], earth, sky)
    elif name == "clouds":
        cloud = fbm((2, 6, 18, 48))
        cloud = np.clip((cloud - np.percentile(cloud, 40)) / np.ptp(cloud) * 3, 0, 1)
        base = np.dstack([90 + 80 * yy, 130 + 70 * yy, 210 + 20 * yy])
        arr = base * (1 - cloud[..., None]) + 245 * cloud[..., None]
        horizon = 50 + 25 * np.tanh(fbm((1, 4)) / 10)
        arr = np.where((yy > 0.82)[..., None], horizon[..., None], arr)
    else:  # face
        back = np.dstack([120 + 80 * xx, 140 + 60 * xx, 170 + 40 * xx])
        head = ((xx - 0.5) / 0.22) ** 2 + ((yy - 0.42) / 0.3) ** 2
        body = (yy > 0.75) & (np.abs(xx - 0.5) < 0.45 - (yy - 0.75) * -0.6)
        shade = np.clip(1.1 - 0.6 * head - 0.3 * (xx - 0.4), 0.3, 1.0)
        skin = np.dstack([225 * shade, 180 * shade, 150 * shade])
        arr = np.where((head < 1)[..., None], skin, back)
        hair = (head < 1.15) & (yy < 0.3 + 0.05 * np.sin(xx * 40))
        arr = np.where(hair[..., None], (40 + 15 * np.tanh(fbm((1, 2)) / 3))[..., None], arr)
        for ex in (0.41, 0.59):
            eye = ((xx - ex) / 0.035) ** 2 + ((yy - 0.42) / 0.018) ** 2 < 1
            arr = np.where(eye[..., None], 35.0, arr)
        mouth = (((xx - 0.5) / 0.07) ** 2 + ((yy - 0.58) / 0.015) ** 2) < 1
        arr = np.where(mouth[..., None], np.array([150.0, 70.0, 70.0]), arr)
        arr = np.where(body[..., None], np.array([40.0, 50.0, 90.0]) * (0.8 + 0.4 * xx[..., None]), arr)
        arr = arr + ndimage.gaussian_filter(rng.normal(0, 4, (size, size)), 1.0)[..., None]
    return np.clip(arr, 0, 255).astype(np.uint8)


def _source(name: str) -> np.ndarray:
    """A picture by name; "name:flip" (mirrored), "name:zoom" (its central 60 %), "name:rot" (turned a
    quarter) make pictures no set shows as they are."""
    import skimage.data

    if ":" in name:
        base, how = name.split(":", 1)
        arr = _source(base)
        if how == "flip":
            return np.ascontiguousarray(arr[:, ::-1])
        if how == "rot":
            return np.ascontiguousarray(np.rot90(arr))
        h, w = arr.shape[:2]
        return np.ascontiguousarray(arr[round(h * 0.2):round(h * 0.8), round(w * 0.2):round(w * 0.8)])
    if name in ("sand", "weave", "tiles", "bark", "pebbles", "cork", "linen", "stucco", "planks"):
        return _made_texture(name)
    if name in ("terrain", "clouds", "face"):
        return _made_picture(name)
    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    if name == "hubble":
        arr = skimage.data.hubble_deep_field()
    elif name == "phantom":  # the Shepp-Logan head phantom: smooth grey regions, soft edges
        arr = (skimage.data.shepp_logan_phantom() * 200 + 30).astype(np.uint8)
    else:
        arr = getattr(skimage.data, name)()
    if arr.ndim == 2:
        arr = np.dstack([arr] * 3)
    return arr[..., :3]


def _photo(width: int, height: int, which: int | str, colour: bool = False) -> Image.Image:
    """A real photograph (scikit-image's bundled pictures), centre-cropped to the box's shape; grey unless
    `colour`."""
    name = which if isinstance(which, str) else ("camera", "astronaut", "coffee")[which % 3]
    src = _source(name)
    sh, sw = src.shape[:2]
    if sw / sh > width / height:
        cw = round(sh * width / height)
        src = src[:, (sw - cw) // 2:(sw - cw) // 2 + cw]
    else:
        ch = round(sw * height / width)
        src = src[(sh - ch) // 2:(sh - ch) // 2 + ch]
    img = Image.fromarray(np.ascontiguousarray(src))
    img = img if colour else img.convert("L")
    return img.resize((width, height), Image.LANCZOS)


def _fade(photo: Image.Image, lo: int, hi: int) -> Image.Image:
    """A faded, low-contrast print: the picture's tones squeezed into lo..hi."""
    arr = np.asarray(photo, dtype=np.float32)
    return Image.fromarray(np.clip(lo + arr * ((hi - lo) / 255.0), 0, 255).astype(np.uint8))


def _halftone(photo: Image.Image, dpi: int, lpi: float, angle_deg: float) -> Image.Image:
    """A newspaper reproduction of a photo: round dots on a rotated screen, printed black (grey "L")."""
    tone = 1.0 - np.asarray(photo.convert("L"), dtype=np.float32) / 255.0  # darkness
    h, w = tone.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle_deg)
    f = lpi / dpi
    u = (xx * math.cos(a) + yy * math.sin(a)) * f
    v = (-xx * math.sin(a) + yy * math.cos(a)) * f
    spot = (np.cos(2 * math.pi * u) + np.cos(2 * math.pi * v) + 2.0) / 4.0  # 1 at the dot centres
    dots = spot > 1.0 - np.clip(tone * 1.05, 0, 1)
    return Image.fromarray(np.where(dots, 40, 235).astype(np.uint8))


def _seal(draw: ImageDraw.ImageDraw, cx: int, cy: int, radius: int, grey: int, dpi: int) -> None:
    """A round commune seal: two rings, the agency's name around, a star in the middle."""
    w = max(2, round(dpi * 0.8 / 25.4))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=grey, width=w)
    r2 = round(radius * 0.72)
    draw.ellipse((cx - r2, cy - r2, cx + r2, cy + r2), outline=grey, width=max(1, w // 2))
    font = ImageFont.truetype(SANS_BOLD, round(dpi * 3.2 / 25.4))
    label = "ỦY BAN NHÂN DÂN XÃ TÂN LẬP * TỈNH LÀO CAI *"
    for i, ch in enumerate(label):
        angle = -math.pi / 2 + 2 * math.pi * i / len(label)
        rr = (radius + r2) / 2
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.BICUBIC)
        x, y = cx + rr * math.cos(angle), cy + rr * math.sin(angle)
        draw.bitmap((round(x - font.size), round(y - font.size)), glyph, fill=grey)
    star = [(cx + (radius * (0.3 if k % 2 == 0 else 0.12)) * math.cos(-math.pi / 2 + k * math.pi / 5),
             cy + (radius * (0.3 if k % 2 == 0 else 0.12)) * math.sin(-math.pi / 2 + k * math.pi / 5))
            for k in range(10)]
    draw.polygon(star, fill=grey)


def _qr(draw: ImageDraw.ImageDraw, x: int, y: int, side: int, data: str, fill) -> None:
    import qrcode

    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    for r, row in enumerate(matrix):
        for c, on in enumerate(row):
            if on:
                draw.rectangle((x + c * side // n, y + r * side // n, x + (c + 1) * side // n - 1,
                                y + (r + 1) * side // n - 1), fill=fill)


class _Sheet:
    """A sheet being printed, in RGB; the scanner (`_scan`) comes after."""

    def __init__(self, dpi: int, size_mm: tuple[float, float], variation: Variation, rng: random.Random):
        self.dpi, self.size_mm, self.v, self.rng = dpi, size_mm, variation, rng
        self.mm = dpi / 25.4
        self.img = Image.new("RGB", (round(size_mm[0] * self.mm), round(size_mm[1] * self.mm)), variation.paper)
        self.draw = ImageDraw.Draw(self.img)
        self.lines: list[str] = []
        self.photos: list[tuple[int, int, int, int]] = []
        self.holds: list[str] = []
        self._fonts: dict = {}

    def px(self, v_mm: float) -> int:
        return round(v_mm * self.mm)

    def font(self, pt: float, style: str = "serif") -> ImageFont.FreeTypeFont:
        key = (pt, style)
        if key not in self._fonts:
            path = {"serif": SERIF, "bold": SERIF_BOLD, "sans": SANS, "sansbold": SANS_BOLD, "mono": MONO}[style]
            self._fonts[key] = ImageFont.truetype(path, round(pt / 72 * self.dpi))
        return self._fonts[key]

    def put(self, x_mm: float, y_mm: float, text: str, font: ImageFont.FreeTypeFont, fill=None) -> None:
        text = unicodedata.normalize("NFC", text)
        self.draw.text((self.px(x_mm), self.px(y_mm)), text, font=font, fill=fill or self.v.ink)
        self.lines.append(text)

    def heading(self) -> float:
        bold = self.font(13, "bold")
        cx = self.size_mm[0] / 2
        for dy, text in ((0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), (7, "Độc lập - Tự do - Hạnh phúc")):
            self.put(cx - bold.getlength(text) / self.mm / 2, 15 + dy, text, bold)
        return 33.0

    def body(self, y_mm: float, count: int, x_mm: float = 20.0, right_mm: float = 20.0,
             narrow_until_mm: float = 0.0, narrow_by_mm: float = 0.0, x_narrow_mm: float | None = None) -> float:
        body = self.font(12)
        order = list(_SENTENCES)
        self.rng.shuffle(order)
        for i in range(count):
            if y_mm + 8 > self.size_mm[1] - 8:
                break
            narrow = y_mm < narrow_until_mm
            x = x_narrow_mm if narrow and x_narrow_mm is not None else x_mm
            limit = self.size_mm[0] - x - right_mm - (narrow_by_mm if narrow and x_narrow_mm is None else 0)
            sentence = order[i % len(order)]
            while body.getlength(sentence) > limit * self.mm and " " in sentence:
                sentence = sentence.rsplit(" ", 1)[0]
            self.put(x, y_mm, sentence, body)
            y_mm += 8.0
        self.holds.append("text")
        return y_mm

    def photo(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, source: str, colour: bool = True,
              halftone: tuple[float, float] | None = None, faded: bool = False) -> None:
        box = (self.px(x_mm), self.px(y_mm), self.px(w_mm), self.px(h_mm))
        pic = _photo(box[2], box[3], source, colour)
        if faded:
            pic = _fade(pic, *self.v.faded)
            self.holds.append(f"faded:{self.v.faded[0]}-{self.v.faded[1]}")
        if halftone:
            pic = _halftone(pic, self.dpi, *halftone)
            self.holds.append(f"halftone:{halftone[0]:g}lpi@{halftone[1]:g}")
        self.img.paste(pic.convert("RGB"), box[:2])
        self.photos.append(box)
        self.holds.append(f"photo:{source}")

    def stamp(self, cx_mm: float, cy_mm: float, r_mm: float, ink: tuple[int, int, int] | None = None) -> None:
        """A seal (red unless `ink`) printed over whatever is there (ink multiplies: a photo or the text under
        it stays visible)."""
        mask = Image.new("L", self.img.size, 0)
        _seal(ImageDraw.Draw(mask), self.px(cx_mm), self.px(cy_mm), self.px(r_mm), 255, self.dpi)
        a = np.asarray(mask, dtype=np.float32)[..., None] / 255.0 * 0.9
        base = np.asarray(self.img, dtype=np.float32)
        colour = np.array(ink or self.v.seal, dtype=np.float32) / 255.0
        self.img = Image.fromarray(np.clip(base * (1 - a * (1 - colour)), 0, 255).astype(np.uint8))
        self.draw = ImageDraw.Draw(self.img)
        self.holds.append("seal:red" if ink is None or ink == self.v.seal else f"seal:{ink}")

    def signature(self, cx_mm: float, cy_mm: float) -> None:
        sx, sy = self.px(cx_mm), self.px(cy_mm)
        points = [(sx - self.px(30) + k * self.px(3), sy + round(self.px(4) * math.sin(k * 1.3))) for k in range(20)]
        self.draw.line(points, fill=self.v.ink, width=max(2, self.px(0.5)))
        self.holds.append("signature")

    def signed(self, y_mm: float) -> None:
        if y_mm + 45 < self.size_mm[1]:
            self.put(self.size_mm[0] - 75, y_mm + 4, "NGƯỜI YÊU CẦU", self.font(13, "bold"))
            self.signature(self.size_mm[0] - 55, y_mm + 25)
            self.stamp(self.size_mm[0] - 55, y_mm + 25, 20)

    def card(self, x_mm: float, y_mm: float, side: str, portrait: str, index: int) -> None:
        """An ID card (85.6 x 54 mm) photocopied 1:1: tint with a fine guilloche, text, and on the front a
        portrait and a QR code, on the back a red seal and the machine-readable zone."""
        w, h = 85.6, 54.0
        x0, y0, x1, y1 = self.px(x_mm), self.px(y_mm), self.px(x_mm + w), self.px(y_mm + h)
        self.draw.rounded_rectangle((x0, y0, x1, y1), radius=self.px(3), fill=self.v.tint, outline=self.v.ink,
                                    width=max(1, self.px(0.2)))
        line = tuple(max(0, c - 22) for c in self.v.tint)
        for k in range(0, round(h / 2.2)):
            pts = [(x, y0 + self.px(2 + k * 2.2) + round(self.px(0.8) * math.sin(x / self.px(4) + k)))
                   for x in range(x0 + self.px(2), x1 - self.px(2), max(1, self.px(1)))]
            self.draw.line(pts, fill=line, width=1)
        small, bold = self.font(7, "sans"), self.font(8, "sansbold")
        number = f"0{31000000000 + index * 7919:011d}"
        if side == "front":
            self.put(x_mm + 27, y_mm + 3, "CĂN CƯỚC", bold)
            self.photo(x_mm + 4, y_mm + 14, 20, 27, portrait, colour=True)
            self.holds.remove("photo:" + portrait)
            self.holds.append("portrait:" + portrait)
            for k, text in enumerate((f"Số định danh: {number}", "Họ và tên: NGUYỄN VĂN AN",
                                      "Ngày sinh: 01/01/1990  Giới tính: Nam", "Quốc tịch: Việt Nam",
                                      "Nơi thường trú: xã Tân Lập, tỉnh Lào Cai")):
                self.put(x_mm + 27, y_mm + 12 + k * 4.6, text, small)
            _qr(self.draw, self.px(x_mm + w - 17), self.px(y_mm + 3), self.px(14), f"{number}|NGUYEN VAN AN|01011990",
                self.v.ink)
            self.holds.append("qr")
        else:
            for k, text in enumerate(("Nơi cư trú: thôn Hòa Bình, xã Quảng Phú", "Ngày cấp: 15/08/2024",
                                      "Nơi cấp: Bộ Công an", "Ngày hết hạn: 01/01/2040")):
                self.put(x_mm + 4, y_mm + 4 + k * 4.6, text, small)
            self.signature(x_mm + 72, y_mm + 26)
            self.stamp(x_mm + 70, y_mm + 25, 9)
            mono = self.font(8, "mono")
            for k, text in enumerate((f"IDVNM{number[:9]}<<<<<<<<<<<<", "9001014M4001017VNM<<<<<<<<<<<4",
                                      "NGUYEN<<VAN<AN<<<<<<<<<<<<<<<")):
                self.put(x_mm + 5, y_mm + 36 + k * 5, text, mono)
            self.holds.append("mrz")


def _compose(sheet: _Sheet, kind: str, index: int) -> None:
    v, rng = sheet.v, sheet.rng
    W, H = sheet.size_mm
    pick = lambda names: names[(index + rng.randrange(len(names))) % len(names)]  # noqa: E731
    if kind in ("form", "text"):
        y = sheet.heading()
        sheet.put(W / 2 - 40, y - 2, "TỜ KHAI ĐĂNG KÝ KHAI SINH", sheet.font(13, "bold"))
        y += 12
        if kind == "form" and H >= 200:
            sheet.photo(W - 60, y, 40, 55, pick(v.photos), colour=True)
            y = sheet.body(y, int((H - y - 60) / 8.0), narrow_until_mm=y + 58, narrow_by_mm=45)
        else:
            y = sheet.body(y, int((H - y - 60) / 8.0))
        sheet.signed(y)
    elif kind == "seal_photo":  # a form with a 3x4 portrait, the commune's seal stamped across its corner
        y = sheet.heading() + 12
        sheet.put(W / 2 - 45, y - 2, "GIẤY XÁC NHẬN THÔNG TIN CƯ TRÚ", sheet.font(13, "bold"))
        y += 12
        sheet.photo(20, y, 30, 40, pick(v.portraits), colour=True)
        sheet.stamp(20 + 30, y + 40, 15)
        y = sheet.body(y, int((H - y - 60) / 8.0), narrow_until_mm=y + 50, x_narrow_mm=68)
        sheet.signed(y)
    elif kind in ("id_front", "id_back"):
        sheet.put(20, 15, "BẢN SAO CĂN CƯỚC" + (" - MẶT TRƯỚC" if kind == "id_front" else " - MẶT SAU"),
                  sheet.font(12, "bold"))
        sheet.card((W - 85.6) / 2, 30, "front" if kind == "id_front" else "back", pick(v.portraits), index)
        if H > 250:
            sheet.body(100, 6)
    elif kind == "id_copy":  # both sides on one sheet, the certification below
        sheet.put(20, 15, "BẢN SAO CĂN CƯỚC HAI MẶT", sheet.font(12, "bold"))
        sheet.card((W - 85.6) / 2, 28, "front", pick(v.portraits), index)
        sheet.card((W - 85.6) / 2, 92, "back", pick(v.portraits), index)
        y = sheet.body(160, 6)
        sheet.put(W - 90, y + 4, "CHỨNG THỰC BẢN SAO ĐÚNG VỚI BẢN CHÍNH", sheet.font(9, "bold"))
        sheet.stamp(W - 50, y + 22, 16)
    elif kind == "seal_text":  # the seal lands across typed lines
        y = sheet.heading() + 12
        sheet.put(W / 2 - 35, y - 2, "GIẤY XÁC NHẬN", sheet.font(13, "bold"))
        y += 12
        end = sheet.body(y, int((H - y - 40) / 8.0))
        ink = v.seal if index % 2 == 0 else v.seal2
        cy = y + (end - y) * rng.uniform(0.35, 0.75)
        sheet.stamp(W * rng.uniform(0.35, 0.65), cy, 18, ink=ink)
    elif kind == "portrait_doc":  # a household page: halftoned portrait beside small print, seal over both
        y = sheet.heading() + 10
        sheet.put(20, y, "TRANG THÔNG TIN NHÂN KHẨU", sheet.font(13, "bold"))
        y += 12
        sheet.photo(20, y, 30, 40, pick(v.portraits), colour=False,
                    halftone=v.halftone[(index + rng.randrange(len(v.halftone))) % len(v.halftone)])
        small = sheet.font(9, "sans")
        for k, text in enumerate(("Họ và tên: LÊ THỊ HỒNG NHUNG", "Ngày sinh: 12/07/1985", "Giới tính: Nữ",
                                  "Dân tộc: Kinh   Tôn giáo: Không", "Quan hệ với chủ hộ: vợ",
                                  "Nơi thường trú: thôn Đông, xã Yên Thành", "Số định danh: 040185001234")):
            sheet.put(56, y + 1 + k * 5.2, text, small)
        sheet.stamp(50, y + 36, 14)
        y = sheet.body(y + 50, int((H - y - 90) / 8.0))
        sheet.signed(y)
    elif kind == "halftone":  # a newspaper clipping attached to a dossier
        y = sheet.heading() + 6
        sheet.put(20, y, "BÀI BÁO ĐÍNH KÈM HỒ SƠ", sheet.font(13, "bold"))
        y += 12
        pw = min(80.0, W - 40)
        sheet.photo(20, y, pw, pw * 0.68, pick(v.photos), colour=False,
                    halftone=v.halftone[(index + rng.randrange(len(v.halftone))) % len(v.halftone)])
        y = sheet.body(y + pw * 0.68 + 8, int((H - y - pw * 0.68 - 30) / 8.0))
    elif kind == "faded":  # an old photo, faded, photocopied onto a confirmation form
        y = sheet.heading() + 6
        sheet.put(20, y, "ẢNH TƯ LIỆU KÈM THEO ĐƠN", sheet.font(13, "bold"))
        y += 12
        sheet.photo(20, y, 70, 52, pick(v.photos), colour=True, faded=True)
        y = sheet.body(y + 60, int((H - y - 100) / 8.0))
        sheet.signed(y)
    elif kind == "texture":  # a site photo (wall, yard) on a building-permit form
        y = sheet.heading() + 6
        sheet.put(20, y, "ẢNH CHỤP HIỆN TRẠNG CÔNG TRÌNH", sheet.font(13, "bold"))
        y += 12
        sheet.photo(20, y, 80, 60, pick(v.textures), colour=True)
        y = sheet.body(y + 68, int((H - y - 100) / 8.0))
        sheet.signed(y)
    else:
        raise ValueError(kind)


def _scan(sheet_img: Image.Image, *, colour: bool, angle: float, noise: float, blur: float, paper: int,
          seed: int, contrast: float = 1.0) -> Image.Image:
    """What the scanner gives: grey or colour, uneven lamp, optical blur, the skew, sensor noise; with
    `contrast` < 1 a faint copy (every tone pulled towards a light grey: toner lighter, paper greyer)."""
    img = sheet_img if colour else sheet_img.convert("L")
    width, height = img.size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lamp = 0.96 + 0.04 * (xx / width) + 0.02 * np.sin(yy / height * math.pi)
    del yy, xx
    arr = np.asarray(img)
    planes = [arr] if arr.ndim == 2 else [arr[..., c] for c in range(3)]
    planes = [np.clip((p * contrast + (1.0 - contrast) * 205.0) * lamp, 0, 255).astype(np.uint8) for p in planes]
    img = Image.fromarray(planes[0] if len(planes) == 1 else np.dstack(planes)).filter(ImageFilter.GaussianBlur(blur))
    if angle:
        img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=paper if not colour else (paper,) * 3)
    rng = np.random.default_rng(seed)
    arr = np.asarray(img)
    planes = [arr] if arr.ndim == 2 else [arr[..., c] for c in range(3)]
    planes = [np.clip(p + rng.normal(0.0, noise, p.shape).astype(np.float32), 0, 255).astype(np.uint8) for p in planes]
    return Image.fromarray(planes[0] if len(planes) == 1 else np.dstack(planes))


def make_page(index: int = 0, *, dpi: int = 300, size_mm: tuple[float, float] = A4, lines: int | None = None,
              photo: bool = True, seal: bool = True, skew_deg: float | None = None, noise: float | None = None,
              seed: int = 0, kind: str | None = None, colour: bool = False, variation: Variation = TUNING,
              with_level: bool = False, contrast: float = 1.0) -> BenchPage:
    """One scanned page; the same arguments give the same pixels. Without `kind`: the civil-status form of
    issue 3 (grey, `lines` lines, optional 40x55 mm photo and seal), as the fast tests use it."""
    rng = random.Random(seed * 1000 + index)
    angle = skew_deg if skew_deg is not None else rng.uniform(-0.8, 0.8)
    sheet = _Sheet(dpi, size_mm, variation, rng)
    if kind is None:
        kind = "form" if photo and size_mm[1] >= 200 else "text"
        y = sheet.heading()
        sheet.put(65, y, "TỜ KHAI ĐĂNG KÝ KHAI SINH", sheet.font(13, "bold"))
        y += 14
        if kind == "form":
            sheet.photo(size_mm[0] - 60, y, 40, 55, ("camera", "astronaut", "coffee")[index % 3], colour=colour)
        count = lines if lines is not None else int((size_mm[1] - y - 60) / 8.0)
        y = sheet.body(y, count, narrow_until_mm=y + 58 if kind == "form" else 0, narrow_by_mm=45)
        if seal:
            sheet.signed(y)
    else:
        _compose(sheet, kind, index)
    grey_paper = round(0.299 * variation.paper[0] + 0.587 * variation.paper[1] + 0.114 * variation.paper[2])
    level_of = lambda a: _scan(sheet.img, colour=colour, angle=a, noise=variation.noise if noise is None else noise,  # noqa: E731
                               blur=variation.blur, paper=grey_paper, seed=seed * 1000 + index, contrast=contrast)
    out = level_of(angle)
    out.info["dpi"] = (dpi, dpi)
    level = None
    if with_level and angle:
        level = level_of(0.0)
        level.info["dpi"] = (dpi, dpi)
    boxes = tuple(sheet.photos)
    return BenchPage(image=out, text="\n".join(sheet.lines), photo_box=boxes[0] if boxes else None, dpi=dpi,
                     kind=kind, photo_boxes=boxes, colour=colour, skew_deg=angle, size_mm=size_mm,
                     holds=tuple(dict.fromkeys(sheet.holds + ([] if colour else ["grey scan"])
                                               + ([f"contrast:{contrast:g}"] if contrast != 1.0 else []))),
                     level=level)


def blank_page(*, dpi: int = 150, size_mm: tuple[float, float] = (210.0, 297.0), seed: int = 0) -> Image.Image:
    """An empty sheet as a scanner sees it: paper tone, faint show-through, noise, a little dust."""
    mm = dpi / 25.4
    width, height = round(size_mm[0] * mm), round(size_mm[1] * mm)
    img = Image.new("L", (width, height), 236)
    draw = ImageDraw.Draw(img)
    faint = ImageFont.truetype(SERIF, round(12 / 72 * dpi))
    for k in range(20):  # text printed on the back, seen through the paper
        draw.text((round(20 * mm), round((20 + k * 10) * mm)), _SENTENCES[k % len(_SENTENCES)], font=faint, fill=222)
    rng = np.random.default_rng(seed)
    for _ in range(6):  # dust
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.point((x, y), fill=60)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
    arr = arr + rng.normal(0.0, 3.0, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    out.info["dpi"] = (dpi, dpi)
    return out


def stamp_only_page(*, dpi: int = 150, seed: int = 0) -> Image.Image:
    """A sheet that carries nothing but a seal (e.g. the back of a certified copy): not blank."""
    mm = dpi / 25.4
    width, height = round(210 * mm), round(297 * mm)
    img = Image.new("L", (width, height), 236)
    _seal(ImageDraw.Draw(img), round(140 * mm), round(230 * mm), round(20 * mm), 110, dpi)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)
    arr = arr + np.random.default_rng(seed).normal(0.0, 3.0, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    out.info["dpi"] = (dpi, dpi)
    return out
