"""The English catalogue (issue 12): Vietnamese text as the kiosk shows it -> English.

A table keyed by the Vietnamese text itself (the msgid, as gettext would have it), read by kiosk.messages.i18n.tr.
Why not gettext + Babel: the screens' words live in .kv rules and Python tables that Babel's extractors do not read,
the language is chosen per session (gettext's install() is process-wide) and kv bindings must re-evaluate on a
switch; a plain table needs no compile step and tests/test_i18n.py checks it is complete (every Vietnamese string
of the screens and of kiosk.messages has an English entry).

TEMPLATES: text with a varying part, "{}" standing for it (the part is translated too when the catalogue knows it).
"""
from __future__ import annotations

EN: dict[str, str] = {
    # ------------------------------------------------------------------ header and shared panels
    "Nghe": "Listen",
    "Chữ to": "Large text",
    "Chữ to: bật.": "Large text: on.",
    "Chữ to: tắt.": "Large text: off.",
    "Tương phản: bật.": "Contrast: on.",
    "Tương phản: tắt.": "Contrast: off.",
    "Tương phản": "Contrast",
    "Hủy": "Cancel",
    "Trợ giúp": "Help",
    "Quay lại": "Back",
    "Tiếp tục": "Continue",
    "Ông/Bà có cần thêm thời gian không?": "Do you need more time?",
    "Tôi cần thêm thời gian": "I need more time",
    "Nút “Quay lại” trở về bước trước; nút “Hủy” dừng và xóa thông tin.":
        "“Back” returns to the previous step; “Cancel” stops and deletes your information.",
    "Gọi cán bộ": "Call staff",
    "Đã gọi cán bộ": "Staff called",
    "Đã hiểu": "Understood",
    "Ông/Bà có chắc muốn hủy?": "Are you sure you want to cancel?",
    "Thông tin đã nhập sẽ bị xóa.": "What you entered will be deleted.",
    "Có, hủy": "Yes, cancel",
    "Không, tiếp tục": "No, continue",
    "Cán bộ sẽ thông báo": "Staff will tell you",
    # ------------------------------------------------------------------ attract
    "Bắt đầu nộp hồ sơ": "Start an application",
    "Nộp hồ sơ thủ tục hành chính": "Apply for an administrative procedure",
    "Thủ tục nhiều người nộp:": "Most requested procedures:",
    "Tra cứu hồ sơ": "Check an application",
    "Lấy số thứ tự": "Get a queue number",
    "Chạm vào màn hình để bắt đầu. Ông/Bà cần mang điện thoại có ứng dụng VNeID và giấy tờ bản giấy.":
        "Touch the screen to start. You need a phone with the VNeID app and your paper documents.",
    "Có thể nộp hồ sơ khai sinh, kết hôn, chứng thực, cư trú… ngay tại máy này.":
        "You can apply for birth and marriage registration, certification, residence… right at this kiosk.",
    "Đã nộp hồ sơ? Đưa mã QR trên biên nhận vào camera để xem tình trạng.":
        "Already applied? Hold the QR code on your receipt to the camera to see its status.",
    "Cần làm thủ tục tại quầy? Bấm “Lấy số thứ tự”.": "Need the counter? Press “Get a queue number”.",
    # ------------------------------------------------------------------ procedure, procedure info
    "Ông/Bà muốn làm thủ tục gì?": "Which procedure do you need?",
    "Chạm vào đây để tìm, ví dụ: khai sinh": "Touch here to search, for example: birth",
    "Xong": "Done",
    "Kết quả tìm kiếm:": "Search results:",
    "Không tìm thấy thủ tục phù hợp. Hãy thử từ khác, ví dụ “khai sinh”.":
        "No matching procedure. Try other words, for example “birth”.",
    "Tất cả": "All",
    "Hộ tịch": "Civil status",
    "Chứng thực": "Certification",
    "Cư trú": "Residence",
    "Bắt đầu nộp": "Start",
    "Giấy tờ cần có:": "Documents needed:",
    "Lệ phí:": "Fee:",
    "Thời hạn giải quyết:": "Processing time:",
    "Nếu nộp bây giờ, ngày hẹn trả:": "If you apply now, result on:",
    "bản chính": "original",
    "bản sao": "copy",
    "tờ khai": "form",
    "Trả kết quả trong ngày": "Result the same day",
    "Cán bộ sẽ thông báo thời hạn": "Staff will tell you the time needed",
    "Không cần giấy tờ kèm theo.": "No documents needed.",
    "quét tại máy": "scanned at the kiosk",
    "mang theo khi nhận kết quả": "bring it when you collect the result",
    "Miễn lệ phí": "No fee",
    # ------------------------------------------------------------------ consent
    "Tôi đồng ý": "I agree",
    "Không đồng ý": "I do not agree",
    "Thông báo xử lý dữ liệu cá nhân": "Notice on the processing of personal data",
    "Để nộp hồ sơ, máy sẽ đọc thông tin định danh từ tài khoản VNeID của Ông/Bà (họ tên, số định danh, ngày sinh, "
    "nơi thường trú) và giấy tờ Ông/Bà quét.":
        "To apply, the kiosk will read your identity data from your VNeID account (full name, ID number, date of "
        "birth, permanent residence) and the documents you scan.",
    "Thông tin chỉ dùng để giải quyết thủ tục Ông/Bà chọn và được gửi tới Cổng dịch vụ công, theo Nghị định "
    "13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân.":
        "It is used only for the procedure you choose and is sent to the National Public Service Portal, under "
        "Decree 13/2023/NĐ-CP on personal data protection.",
    "Máy không lưu lại thông tin của Ông/Bà sau khi hồ sơ đã được gửi. Khi Ông/Bà bấm “Hủy” hoặc rời máy, mọi "
    "thông tin sẽ bị xóa.":
        "The kiosk keeps nothing of yours after the application is sent. When you press “Cancel” or leave, "
        "everything is deleted.",
    # ------------------------------------------------------------------ login
    "Đăng nhập bằng ứng dụng VNeID": "Sign in with the VNeID app",
    "1.  Mở ứng dụng VNeID trên điện thoại.": "1.  Open the VNeID app on your phone.",
    "2.  Chọn “Quét mã QR”.": "2.  Choose “Scan QR code”.",
    "3.  Hướng camera điện thoại vào mã QR trên màn hình.":
        "3.  Point the phone's camera at the QR code on the screen.",
    "4.  Bấm “Đồng ý” trên điện thoại.": "4.  Press “Agree” on the phone.",
    "2.  Chọn “Mã QR” để hiện mã đăng nhập.": "2.  Choose “QR code” to show the sign-in code.",
    "3.  Đưa màn hình điện thoại vào khung, cách khoảng một gang tay.":
        "3.  Hold the phone's screen in the frame, about a hand's width away.",
    "Máy sẽ tự đọc mã. Bạn không cần bấm nút.":
        "The kiosk reads the code by itself. You do not need to press anything.",
    "Thử lại": "Try again",
    "Mô phỏng: đưa mã VNeID thử nghiệm": "Simulation: show a test VNeID code",
    "Đưa mã QR vào khung này": "Hold the QR code in this frame",
    # ------------------------------------------------------------------ login doors (login.kv, messages.login_screen)
    "Đăng nhập": "Sign in",
    "Quét mã QR của máy bằng điện thoại": "Scan the kiosk's QR code with your phone",
    "Tạo mã mới": "Make a new code",
    "Mô phỏng: đồng ý trên điện thoại": "Simulation: agree on the phone",
    "Đưa mã trong ứng dụng vào camera": "Hold the app's code to the camera",
    "Đọc lại thẻ": "Read the card again",
    "Tiếp tục bằng mã QR trên thẻ": "Continue with the QR code on the card",
    "Mô phỏng: đưa mặt trước thẻ vào camera": "Simulation: hold the card's front to the camera",
    "Mô phỏng: đặt thẻ lên ô đọc": "Simulation: put the card on the reader",
    "Cán bộ (CB)": "Staff (CB)",
    "Tình nguyện viên (TNV)": "Volunteer (TNV)",
    "Mã số:": "ID number:",
    "Mã PIN:": "PIN:",
    "Mô phỏng: cán bộ đưa mã VNeID": "Simulation: staff show their VNeID code",
    "Nếu đã mở sẵn mã QR trong ứng dụng VNeID, Ông/Bà có thể đưa ngay vào camera.":
        "If the QR code is already open in the VNeID app, you can hold it to the camera now.",
    "Máy sẽ tự đọc mã. Ông/Bà không cần bấm nút.":
        "The kiosk reads the code by itself. You do not need to press anything.",
    "Đã xong": "Done",
    "Bây giờ": "Now",
    "Máy đọc thẻ mất khoảng 5 giây.": "Reading the card takes about 5 seconds.",
    "Máy này chưa có bộ đọc thẻ chip. Cán bộ có thể tiếp tục bằng mã QR trên thẻ.":
        "This kiosk has no chip card reader yet. Staff can continue with the QR code on the card.",
    "Cán bộ hoặc tình nguyện viên nhập mã số và mã PIN do trung tâm cấp.":
        "Staff or a volunteer enter the ID number and PIN given by the centre.",
    "Hoặc: cán bộ đưa mã QR trong ứng dụng VNeID của mình vào camera.":
        "Or: staff hold the QR code from their own VNeID app to the camera.",
    "Ông/Bà muốn đăng nhập bằng cách nào?": "How would you like to sign in?",
    "Đưa mã QR trong ứng dụng VNeID vào camera": "Hold the QR code from the VNeID app to the camera",
    "Dùng điện thoại quét mã QR trên màn hình": "Scan the QR code on the screen with your phone",
    "Dùng thẻ căn cước gắn chip": "Use your chip ID card",
    "Cán bộ hỗ trợ nộp hồ sơ": "Staff help you apply",
    "Dành cho cán bộ: đăng nhập để hỗ trợ": "For staff: sign in to help",
    "Đang tạo mã QR…": "Making a QR code…",
    "Đang chờ Ông/Bà bấm “Đồng ý” trên điện thoại…": "Waiting for you to press “Agree” on the phone…",
    "Ông/Bà đã đồng ý trên điện thoại. Đang đăng nhập…": "You agreed on the phone. Signing in…",
    "Mã này không dùng được nữa.": "This code can no longer be used.",
    "Mã đã hết hạn. Máy đang tạo mã mới, vui lòng chờ…":
        "The code has expired. The kiosk is making a new one, please wait…",
    "Đưa mặt trước thẻ căn cước (có mã QR) vào camera, cách khoảng một gang tay.":
        "Hold the front of the ID card (with the QR code) to the camera, about a hand's width away.",
    "Đặt thẻ căn cước lên ô đọc thẻ có hình sóng, mặt nào cũng được. Giữ yên thẻ đến khi máy báo xong.":
        "Put the ID card on the reader marked with waves, either side up. Keep it still until the kiosk says done.",
    "Máy không đọc được chip. Cán bộ có thể tiếp tục bằng mã QR trên thẻ.":
        "The kiosk cannot read the chip. Staff can continue with the QR code on the card.",
    "Máy không dùng được thẻ này. Vui lòng đến quầy tiếp nhận để cán bộ hỗ trợ.":
        "The kiosk cannot use this card. Please go to the reception counter for help from staff.",
    "Đang mở phiên nộp hồ sơ…": "Opening your application session…",
    "Tôi có điện thoại có VNeID": "I have a phone with VNeID",
    "Dùng ứng dụng VNeID trên điện thoại để đăng nhập.": "Sign in with the VNeID app on your phone.",
    "Tôi có thẻ căn cước gắn chip": "I have a chip ID card",
    "Máy đọc thẻ, cán bộ xác nhận giúp Ông/Bà.": "The kiosk reads the card; staff confirm it for you.",
    "Tôi cần cán bộ hỗ trợ": "I need help from staff",
    "Cán bộ đến giúp Ông/Bà nộp hồ sơ.": "Staff come to help you apply.",
    "Đưa mã QR mặt trước thẻ vào camera.": "Hold the QR code on the card's front to the camera.",
    "Đặt thẻ lên ô đọc thẻ, giữ yên.": "Put the card on the reader and keep it still.",
    "Cán bộ xác nhận.": "Staff confirm.",
    "Cán bộ": "Staff",
    "Tình nguyện viên": "Volunteer",
    # ------------------------------------------------------------------ private look-up (code + secret), result print
    "Chưa in được kết quả": "The result could not be printed",
    "Chạm để nhập mã tra cứu": "Touch to type the look-up code",
    "Cần mã tra cứu": "The look-up code is needed",
    "In kết quả": "Print the result",
    "Kết quả của hồ sơ này không có bản điện tử để in tại máy.":
        "This application's result has no electronic copy to print at the kiosk.",
    "Mã chưa đúng": "The codes do not match",
    "Mã hồ sơ hoặc mã tra cứu chưa đúng với biên nhận.":
        "The application code or the look-up code does not match the receipt.",
    "Mã tra cứu:": "Look-up code:",
    "Mã đã bị nhập sai nhiều lần nên máy tạm ngừng tra cứu để bảo vệ hồ sơ.":
        "Wrong codes were entered many times, so the kiosk has paused look-ups to protect the application.",
    "Nhập mã tra cứu vào ô thứ hai, hoặc đưa mã QR trên biên nhận vào trước camera.":
        "Type the look-up code in the second box, or hold the receipt's QR code to the camera.",
    "Quét mã VietQR bằng ứng dụng ngân hàng để nộp số tiền trên":
        "Scan the VietQR code with a banking app to pay the amount above",
    "Tạm khóa tra cứu": "Look-up paused",
    "Vui lòng thử lại sau 15 phút, hoặc mang biên nhận và căn cước đến quầy để cán bộ tra cứu giúp.":
        "Please try again in 15 minutes, or bring the receipt and your ID card to the counter for staff to check.",
    "Vui lòng đến quầy trả kết quả, mang theo biên nhận và căn cước.":
        "Please go to the results counter with the receipt and your ID card.",
    "Xem lại biên nhận và nhập lại cả hai mã, hoặc đưa mã QR trên biên nhận vào trước camera.":
        "Check the receipt and type both codes again, or hold the receipt's QR code to the camera.",
    "Đã in, mời nhận ở khe máy in": "Printed; please take it from the printer slot",
    "Đưa mã QR in trên biên nhận vào trước camera, hoặc nhập mã hồ sơ và mã tra cứu in cạnh nó.":
        "Hold the QR code printed on the receipt to the camera, or type the application code and the look-up code "
        "printed beside it.",
    "Để giữ kín hồ sơ, máy cần cả mã hồ sơ và mã tra cứu (4 đến 6 ký tự in cạnh mã hồ sơ trên biên nhận).":
        "To keep the application private, the kiosk needs both the application code and the look-up code (4 to 6 "
        "characters printed beside it on the receipt).",
    # ------------------------------------------------------------------ form
    "Không bắt buộc: có thể bỏ trống.": "Optional: you may leave it empty.",
    "Có": "Yes",
    "Không": "No",
    "Nam": "Male",
    "Nữ": "Female",
    "Bật gõ Telex": "Telex typing on",
    "Tắt gõ Telex": "Telex typing off",
    "Tắt gõ VNI": "VNI typing off",
    "Xóa hết": "Clear all",
    "Dấu cách": "Space",
    # ------------------------------------------------------------------ documents
    "Quét giấy tờ": "Scan documents",
    "Xóa trang": "Delete page",
    "Giữ trang": "Keep page",
    "Quét tiếp": "Scan more",
    "Quét": "Scan",
    "Quét lại từ đầu": "Scan again from the start",
    "Mô phỏng: đặt 2 trang": "Simulation: put in 2 pages",
    "Chưa quét": "Not scanned yet",
    # ------------------------------------------------------------------ review
    "Sửa": "Change",
    "Xác nhận và gửi": "Confirm and send",
    "Lệ phí": "Fee",
    "Ngày hẹn trả kết quả": "Result date",
    "Giấy tờ đã quét": "Scanned documents",
    "Sửa giấy tờ": "Change documents",
    "Không có": "None",
    "(bỏ trống)": "(left empty)",
    # ------------------------------------------------------------------ otp
    "Xác nhận": "Confirm",
    "Nhập mã xác nhận": "Enter the confirmation code",
    "Máy đang gửi mã xác nhận tới điện thoại của Ông/Bà.": "The kiosk is sending a confirmation code to your phone.",
    "Mô phỏng: xem tin nhắn": "Simulation: show the text message",
    "Gửi mã mới": "Send a new code",
    "Xóa lùi": "Delete",
    # ------------------------------------------------------------------ submitting, done, queue, rating, status
    "Đang gửi hồ sơ": "Sending your application",
    "Máy đang lưu và gửi hồ sơ của Ông/Bà tới Cổng dịch vụ công. Việc này có thể mất một chút thời gian.":
        "The kiosk is saving your application and sending it to the Public Service Portal. This may take a moment.",
    "Vui lòng không rời máy cho tới khi nhận được biên nhận.": "Please do not leave until you have your receipt.",
    "Hoàn tất": "Finish",
    "Ngày hẹn trả:": "Result on:",
    "Mời Ông/Bà đến quầy tiếp nhận và nói: “Tôi đã nộp hồ sơ ở máy”. Cán bộ sẽ gọi Ông/Bà.":
        "Please go to the reception counter and say: “I applied at the kiosk”. Staff will call you.",
    "Hồ sơ đã được tiếp nhận": "Your application has been received",
    "Mã hồ sơ:": "Application code:",
    "Hồ sơ đã được lưu": "Your application has been saved",
    "Máy chưa kết nối được Cổng dịch vụ công. Hồ sơ đã được lưu an toàn và máy sẽ tự gửi đi. Mã tham chiếu:":
        "The kiosk cannot reach the Public Service Portal yet. Your application is saved safely and will be sent "
        "automatically. Reference:",
    "Số thứ tự của Ông/Bà": "Your queue number",
    "Số thứ tự của Ông/Bà:": "Your queue number:",
    "Mời Ông/Bà nhận biên nhận và phiếu số thứ tự ở khe máy in.":
        "Please take your receipt and queue ticket from the printer slot.",
    "Đang in biên nhận…": "Printing your receipt…",
    "Số thứ tự": "Queue number",
    "Đang lấy số…": "Getting a number…",
    "Chưa có số thứ tự": "No queue number yet",
    "Mời Ông/Bà nhận phiếu ở khe máy in.": "Please take your ticket from the printer slot.",
    "Máy chưa lấy được số thứ tự cho Ông/Bà.": "The kiosk could not get a queue number for you.",
    "Ông/Bà có thể bấm “Thử lại”, hoặc đến thẳng quầy tiếp nhận hồ sơ: cán bộ sẽ cấp số và hướng dẫn.":
        "You can press “Try again”, or go straight to the reception counter: staff will give you a number and help.",
    "Bỏ qua": "Skip",
    "Ông/Bà có hài lòng với dịch vụ hôm nay?": "Are you satisfied with the service today?",
    "Chạm vào một khuôn mặt. Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn.":
        "Touch a face. Your opinion helps us serve you better.",
    "Cảm ơn Ông/Bà đã góp ý!": "Thank you for your feedback!",
    "Rất hài lòng": "Very satisfied",
    "Hài lòng": "Satisfied",
    "Bình thường": "Neutral",
    "Không hài lòng": "Dissatisfied",
    "Rất không hài lòng": "Very dissatisfied",
    "Tra cứu": "Look up",
    "Tra cứu tình trạng hồ sơ": "Check the status of an application",
    "Đưa mã QR in trên biên nhận vào trước camera, hoặc chạm vào ô dưới đây để nhập mã hồ sơ.":
        "Hold the QR code printed on the receipt to the camera, or touch the box below to type the application code.",
    "Chạm để nhập mã hồ sơ": "Touch to type the application code",
    "Mới đăng ký": "Newly registered",
    "Được tiếp nhận": "Accepted",
    "Không được tiếp nhận": "Not accepted",
    "Đang xử lý": "Being processed",
    "Yêu cầu bổ sung": "More documents required",
    "Yêu cầu nghĩa vụ tài chính": "Payment required",
    "Công dân rút hồ sơ": "Withdrawn by the citizen",
    "Dừng xử lý": "Processing stopped",
    "Đã xử lý xong": "Processing complete",
    "Đã trả kết quả": "Result returned",
    # ------------------------------------------------------------------ out of service
    "Máy tạm ngừng phục vụ": "This kiosk is out of service",
    "Xin lỗi, máy đang được bảo trì nên chưa nhận hồ sơ.":
        "Sorry, the kiosk is under maintenance and cannot take applications.",
    "Vui lòng đến quầy tiếp nhận hồ sơ để được cán bộ hỗ trợ.":
        "Please go to the reception counter for help from staff.",
    # ------------------------------------------------------------------ kiosk.messages: notices, help, staff call
    "Nếu cần giúp, vui lòng hỏi cán bộ tại quầy tiếp nhận.":
        "If you need help, please ask staff at the reception counter.",
    "Đang kết nối lại…": "Reconnecting…",
    "Đã hủy. Thông tin Ông/Bà đã nhập và giấy tờ đã quét đã được xóa.":
        "Cancelled. What you entered and the documents you scanned have been deleted.",
    "Ông/Bà chưa đồng ý nên máy chưa đọc thông tin nào. Ông/Bà có thể nộp hồ sơ trực tiếp tại quầy: bấm “Lấy số "
    "thứ tự”.":
        "You did not agree, so the kiosk read nothing. You can apply at the counter: press “Get a queue number”.",
    "Máy đã xóa thông tin của phiên trước vì lâu không có thao tác.":
        "The kiosk deleted the previous session's information after a long time without activity.",
    "Cảm ơn Ông/Bà đã góp ý! Chúc Ông/Bà một ngày tốt lành.": "Thank you for your feedback! Have a good day.",
    "Làm theo hướng dẫn trên màn hình, mỗi bước một việc. Bấm nút lớn ở góc phải phía dưới để tiếp tục.":
        "Follow the instructions on the screen, one thing per step. Press the big button at the bottom right to "
        "continue.",
    "Đang báo cán bộ…": "Calling staff…",
    "Cán bộ đã được báo, vui lòng chờ tại máy.": "Staff have been told; please wait at the kiosk.",
    "Máy chưa báo được cán bộ. Vui lòng đến quầy tiếp nhận để được giúp.":
        "The kiosk could not reach staff. Please go to the reception counter for help.",
    "Xin lỗi, máy vừa gặp sự cố": "Sorry, the kiosk had a problem",
    "Máy đã xóa thông tin của phiên làm việc vừa rồi để bảo vệ dữ liệu của Ông/Bà.":
        "The kiosk deleted the information of this session to protect your data.",
    "Vui lòng bắt đầu lại. Nếu vẫn lỗi, hãy hỏi cán bộ tại quầy.":
        "Please start again. If it fails again, ask staff at the counter.",
    "Bấm “Bắt đầu nộp hồ sơ” hoặc chạm vào tên thủ tục Ông/Bà cần làm. Muốn xem hồ sơ đã nộp, bấm “Tra cứu hồ sơ”.":
        "Press “Start an application” or touch the procedure you need. To see an application you made, press "
        "“Check an application”.",
    "Chạm vào tên thủ tục Ông/Bà cần làm. Không thấy? Chạm vào ô tìm kiếm và gõ vài chữ, ví dụ “khai sinh”.":
        "Touch the procedure you need. Not there? Touch the search box and type a few letters, for example "
        "“khai sinh” (birth).",
    "Đây là các giấy tờ cần mang theo và thời gian trả kết quả. Có đủ giấy tờ thì bấm nút lớn bên phải để tiếp tục.":
        "These are the documents to bring and when the result is ready. If you have them, press the big button on "
        "the right.",
    "Máy cần Ông/Bà đồng ý để đọc thông tin định danh. Đồng ý thì bấm “Tôi đồng ý”; không đồng ý thì có thể nộp "
    "tại quầy.":
        "The kiosk needs your consent to read your identity data. To agree press “I agree”; otherwise you can apply "
        "at the counter.",
    "Mở ứng dụng VNeID trên điện thoại, chọn quét mã QR và đưa vào trước camera, hoặc đặt căn cước công dân lên đầu "
    "đọc thẻ.": "Open the VNeID app on your phone, choose the QR code and hold it to the camera, or put your citizen "
                "ID card on the card reader.",
    "Trả lời từng câu hỏi trên màn hình, rồi bấm “Tiếp tục”. Gõ chữ bằng bàn phím trên màn hình; bấm nút dấu để "
    "thêm dấu.":
        "Answer each question on the screen, then press “Continue”. Type with the on-screen keyboard; the accent "
        "keys add Vietnamese accents.",
    "Đặt từng tờ giấy, mặt chữ úp xuống, vào khe máy quét, rồi bấm “Quét”. Xem ảnh trên màn hình: rõ chữ thì bấm "
    "“Tiếp tục”.": "Put each sheet face down into the scanner, then press “Scan”. Look at the picture: if the words "
                  "are clear, press “Continue”.",
    "Đọc lại các thông tin. Sai chỗ nào thì bấm “Sửa” bên cạnh; đúng hết thì bấm “Xác nhận và gửi”.":
        "Read everything again. If something is wrong press “Change” beside it; if all is right press "
        "“Confirm and send”.",
    "Xem tin nhắn vừa gửi tới điện thoại của Ông/Bà, gõ 6 chữ số trong tin nhắn, rồi bấm “Xác nhận”.":
        "Look at the text message just sent to your phone, type its 6 digits, then press “Confirm”.",
    "Máy đang gửi hồ sơ. Vui lòng chờ, không cần bấm gì.":
        "The kiosk is sending your application. Please wait; no need to press anything.",
    "Nhận biên nhận và phiếu số thứ tự ở khe máy in, giữ biên nhận để tra cứu và nhận kết quả.":
        "Take the receipt and queue ticket from the printer slot; keep the receipt to check and collect the result.",
    "Chạm vào khuôn mặt đúng với cảm nhận của Ông/Bà, hoặc bấm “Bỏ qua”.":
        "Touch the face that matches how you feel, or press “Skip”.",
    "Đưa mã QR trên biên nhận vào trước camera để xem hồ sơ đang ở bước nào.":
        "Hold the QR code on the receipt to the camera to see where your application is.",
    "Chọn việc Ông/Bà cần làm tại quầy để lấy số thứ tự, rồi chờ được gọi số.":
        "Choose what you need at the counter to get a queue number, then wait for your number to be called.",
    "Máy đang tạm dừng. Vui lòng đến quầy tiếp nhận để được giúp.":
        "The kiosk is paused. Please go to the reception counter for help.",
    # ------------------------------------------------------------------ kiosk.messages: device errors
    "Giấy bị kẹt trong máy quét": "Paper jammed in the scanner",
    "Máy quét bị kẹt giấy. Các trang đã quét trước đó vẫn được giữ lại.":
        "The scanner has a paper jam. Pages scanned before are kept.",
    "Mở nắp máy quét, lấy tờ giấy bị kẹt ra, đặt lại các trang chưa quét rồi bấm “Quét tiếp”.":
        "Open the scanner lid, take out the jammed sheet, put back the pages not yet scanned and press “Scan more”.",
    "Chưa có giấy trong khay": "No paper in the tray",
    "Máy quét không thấy giấy tờ nào trong khay nạp giấy.": "The scanner finds no document in its feeder tray.",
    "Đặt giấy tờ vào khay, mặt có chữ úp xuống, rồi bấm “Quét”.":
        "Put the documents in the tray face down, then press “Scan”.",
    "Nắp máy quét đang mở": "The scanner lid is open",
    "Nắp máy quét đang mở nên máy không quét được.": "The scanner lid is open, so it cannot scan.",
    "Đóng nắp máy quét lại rồi bấm “Quét”.": "Close the scanner lid, then press “Scan”.",
    "Máy quét đang bận": "The scanner is busy",
    "Máy quét đang xử lý một việc khác.": "The scanner is doing something else.",
    "Vui lòng chờ vài giây rồi bấm “Quét” lại.": "Please wait a few seconds, then press “Scan” again.",
    "Máy quét gặp lỗi": "Scanner error",
    "Máy quét không gửi được trang giấy vừa quét.": "The scanner could not send the page it just scanned.",
    "Bấm “Quét” để thử lại. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy.":
        "Press “Scan” to try again. If it fails again, please tell staff at the counter.",
    "Thiết bị không phản hồi": "A device does not respond",
    "Máy không kết nối được với thiết bị.": "The kiosk cannot reach a device.",
    "Vui lòng báo cán bộ tại quầy để được hỗ trợ.": "Please tell staff at the counter for help.",
    "Thiết bị phản hồi quá lâu": "A device is too slow",
    "Thiết bị không trả lời trong thời gian cho phép.": "A device did not answer in time.",
    "Bấm “Thử lại”. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy.":
        "Press “Try again”. If it fails again, please tell staff at the counter.",
    "Máy in hết giấy": "The printer is out of paper",
    "Máy in đã hết giấy nên chưa in được phiếu.": "The printer ran out of paper, so the slip is not printed yet.",
    "Vui lòng báo cán bộ tại quầy để được in lại.": "Please tell staff at the counter to print it again.",
    "Máy in chưa sẵn sàng": "The printer is not ready",
    "Máy in đang tắt hoặc chưa sẵn sàng.": "The printer is off or not ready.",
    "Thiết bị gặp lỗi": "Device error",
    "Thiết bị gặp lỗi không xác định.": "A device had an unknown error.",
    "Nắp máy in đang mở": "The printer lid is open",
    "Nắp máy in đang mở nên chưa in được phiếu.": "The printer lid is open, so the slip is not printed yet.",
    "Máy in bị kẹt giấy": "Paper jammed in the printer",
    "Máy in bị kẹt giấy; phiếu có thể bị in thiếu.": "The printer has a paper jam; the slip may be incomplete.",
    "Máy in không phản hồi": "The printer does not respond",
    "Máy không kết nối được với máy in.": "The kiosk cannot reach the printer.",
    "Máy in không trả lời trong thời gian cho phép.": "The printer did not answer in time.",
    "Máy in gặp lỗi": "Printer error",
    "Máy in gặp lỗi khi in phiếu.": "The printer failed while printing the slip.",
    "Máy đọc mã đang gặp sự cố": "The code reader has a problem",
    "Máy không kết nối được với máy đọc mã QR.": "The kiosk cannot reach the QR code reader.",
    "Máy đọc mã không phản hồi": "The code reader does not respond",
    "Máy đọc mã QR không trả lời.": "The QR code reader does not answer.",
    "Bấm “Thử lại” sau ít phút, hoặc báo cán bộ tại quầy.":
        "Press “Try again” in a few minutes, or tell staff at the counter.",
    # ------------------------------------------------------------------ kiosk.messages: portal errors
    "Không đăng nhập được": "Could not sign in",
    "Mã QR này không phải mã đăng nhập VNeID hợp lệ.": "This QR code is not a valid VNeID sign-in code.",
    "Mở ứng dụng VNeID, chọn mã QR đăng nhập rồi đưa lại trước camera.":
        "Open the VNeID app, choose the sign-in QR code and hold it to the camera again.",
    "Mã đăng nhập đã hết hạn": "The sign-in code has expired",
    "Mã QR đăng nhập VNeID đã hết hạn.": "The VNeID sign-in QR code has expired.",
    "Làm mới mã QR trong ứng dụng VNeID rồi đưa lại trước camera.":
        "Refresh the QR code in the VNeID app and hold it to the camera again.",
    "Tài khoản chưa đủ mức 2": "The account is not level 2",
    "Nộp hồ sơ trực tuyến cần tài khoản VNeID mức 2; tài khoản của của Ông/Bà đang ở mức 1.":
        "Applying online needs a level 2 VNeID account; your account is level 1.",
    "Vui lòng đến quầy tiếp nhận để nộp trực tiếp hoặc nâng cấp tài khoản lên mức 2.":
        "Please apply at the reception counter or upgrade your account to level 2.",
    "Mã xác nhận chưa đúng": "The confirmation code is wrong",
    "Mã xác nhận Ông/Bà nhập chưa đúng.": "The confirmation code you entered is wrong.",
    "Kiểm tra tin nhắn và nhập lại mã gồm 6 chữ số.": "Check the text message and enter the 6-digit code again.",
    "Nhập sai quá số lần cho phép": "Too many wrong attempts",
    "Ông/Bà đã nhập sai mã xác nhận quá số lần cho phép.": "You entered a wrong code too many times.",
    "Bấm “Gửi mã mới” để nhận mã xác nhận khác.": "Press “Send a new code” to get another confirmation code.",
    "Mã xác nhận đã hết hạn": "The confirmation code has expired",
    "Mã xác nhận đã hết thời gian sử dụng.": "The confirmation code's time is up.",
    "Chưa kết nối được Cổng dịch vụ công": "Cannot reach the Public Service Portal",
    "Máy đã thử kết nối nhiều lần nhưng mạng hoặc Cổng đang gián đoạn. Thông tin Ông/Bà đã nhập vẫn được giữ.":
        "The kiosk tried many times but the network or the Portal is down. What you entered is kept.",
    "Vui lòng chờ một lát rồi bấm “Thử lại”, hoặc hỏi cán bộ tại quầy.":
        "Please wait a moment and press “Try again”, or ask staff at the counter.",
    "Cổng dịch vụ công phản hồi chậm": "The Public Service Portal is slow",
    "Máy đã chờ và thử lại nhưng chưa nhận được trả lời. Thông tin Ông/Bà đã nhập vẫn được giữ.":
        "The kiosk waited and tried again but got no answer. What you entered is kept.",
    "Vui lòng bấm “Thử lại” sau ít phút.": "Please press “Try again” in a few minutes.",
    "Cổng dịch vụ công đang gặp sự cố": "The Public Service Portal has a problem",
    "Máy đã thử lại nhiều lần nhưng Cổng chưa xử lý được yêu cầu. Thông tin Ông/Bà đã nhập vẫn được giữ.":
        "The kiosk tried many times but the Portal could not handle the request. What you entered is kept.",
    "Cổng dịch vụ công đang quá tải": "The Public Service Portal is overloaded",
    "Có nhiều người đang dùng cùng lúc nên Cổng tạm thời chưa nhận thêm yêu cầu. Thông tin Ông/Bà đã nhập vẫn "
    "được giữ.":
        "Many people are using it at once, so the Portal takes no more requests for now. What you entered is kept.",
    "Vui lòng chờ ít phút rồi bấm “Thử lại”.": "Please wait a few minutes, then press “Try again”.",
    "Cổng dịch vụ công trả lời không hợp lệ": "The Public Service Portal gave an invalid answer",
    "Máy nhận được câu trả lời không đọc được. Thông tin Ông/Bà đã nhập vẫn được giữ.":
        "The kiosk got an answer it cannot read. What you entered is kept.",
    "Vui lòng bấm “Thử lại”. Nếu vẫn lỗi, hãy báo cán bộ tại quầy.":
        "Please press “Try again”. If it fails again, tell staff at the counter.",
    "Mã xác nhận chưa đúng dạng": "The confirmation code is not in the right form",
    "Mã xác nhận chỉ gồm các chữ số từ 0 đến 9.": "The confirmation code has only the digits 0 to 9.",
    "Nhập lại mã gồm 6 chữ số trong tin nhắn bằng bàn phím trên màn hình.":
        "Type the 6-digit code from the text message again with the on-screen keypad.",
    "Không tìm thấy hồ sơ": "Application not found",
    "Mã này không khớp với hồ sơ nào trên Cổng dịch vụ công.":
        "This code matches no application on the Public Service Portal.",
    "Kiểm tra lại mã trên biên nhận hoặc hỏi cán bộ tại quầy.":
        "Check the code on the receipt or ask staff at the counter.",
    "Phiên đăng nhập đã kết thúc": "The sign-in session has ended",
    "Phiên đăng nhập VNeID của Ông/Bà đã kết thúc.": "Your VNeID sign-in session has ended.",
    "Vui lòng bấm “Hủy” rồi đăng nhập lại bằng mã VNeID.":
        "Please press “Cancel” and sign in again with your VNeID code.",
    "Phiên đăng nhập đã hết hạn": "The sign-in session has expired",
    "Phiên đăng nhập VNeID của Ông/Bà đã hết hạn.": "Your VNeID sign-in session has expired.",
    "Mã xác nhận đã được dùng": "The confirmation code was already used",
    "Mã xác nhận này đã được dùng.": "This confirmation code was already used.",
    "Mã xác nhận không còn hiệu lực": "The confirmation code is no longer valid",
    "Mã này đã quá hạn hoặc đã được thay bằng mã mới.": "This code has expired or was replaced by a new one.",
    "Giấy tờ quá lớn": "Document too large",
    "Giấy tờ đã quét quá lớn để gửi.": "The scanned document is too large to send.",
    "Hồ sơ bị trùng": "Duplicate application",
    "Mã gửi của hồ sơ này đã được dùng cho một hồ sơ khác.":
        "This application's sending code was already used for another one.",
    "Vui lòng báo cán bộ tại quầy.": "Please tell staff at the counter.",
    "Chưa xác nhận hồ sơ": "Application not confirmed",
    "Hồ sơ chưa được xác nhận bằng mã một lần.": "The application has not been confirmed with the one-time code.",
    "Vui lòng nhập lại mã xác nhận.": "Please enter the confirmation code again.",
    "Đã có lỗi xảy ra": "Something went wrong",
    "Máy gặp lỗi khi xử lý yêu cầu của Ông/Bà. Thông tin Ông/Bà đã nhập vẫn được giữ.":
        "The kiosk had an error handling your request. What you entered is kept.",
    "Không đọc được mã QR": "Cannot read the QR code",
    "Đưa mã QR đăng nhập trong ứng dụng VNeID vào khung trước camera.":
        "Hold the sign-in QR code from the VNeID app in the frame in front of the camera.",
    "Máy chưa lưu được hồ sơ": "The kiosk could not save the application",
    "Máy gặp sự cố khi lưu hồ sơ của Ông/Bà. Hồ sơ CHƯA được gửi.":
        "The kiosk failed to save your application. It has NOT been sent.",
    "Vui lòng báo cán bộ tại quầy để được hỗ trợ nộp hồ sơ.": "Please tell staff at the counter to help you apply.",
    "Máy không dùng được thông tin này": "The kiosk cannot use this information",
    "Thông tin vừa nhận quá dài hoặc không đúng dạng.":
        "The information received is too long or not in the right form.",
    "Vui lòng thử lại, hoặc hỏi cán bộ tại quầy.": "Please try again, or ask staff at the counter.",
    # ------------------------------------------------------------------ kiosk.domain.forms.MESSAGES
    "Vui lòng trả lời câu hỏi này.": "Please answer this question.",
    "Ông/Bà muốn nhận kết quả ở đâu?": "Where would you like to receive the result?",
    "Nhận tại Bộ phận Một cửa": "At the one-stop counter",
    "Nhận kết quả qua bưu điện": "By post",
    "Địa chỉ nhận kết quả qua bưu điện": "Address for the result by post",
    "Đã điền sẵn theo địa chỉ trên VNeID hoặc căn cước. Sửa lại nếu muốn nhận ở nơi khác.":
        "Filled in from the address on VNeID or the ID card. Change it to receive the result somewhere else.",
    "Miễn phí": "Free",  # kiosk.domain.catalog.fee_for
    "Vui lòng nhập địa chỉ để bưu điện mang kết quả đến, hoặc chọn nhận tại Bộ phận Một cửa.":
        "Please enter the address the post office should bring the result to, or choose to collect it at the "
        "one-stop counter.",
    "Thông tin chưa đúng dạng. Vui lòng xem hướng dẫn và nhập lại.":
        "Not in the right form. Please read the hint and try again.",
    "Họ tên chỉ gồm chữ cái, dấu cách, dấu nháy (') và gạch nối (-). Vui lòng nhập lại.":
        "A name has only letters, spaces, apostrophes (') and hyphens (-). Please type it again.",
    "Ngày không hợp lệ, hãy nhập theo dạng ngày/tháng/năm.": "Not a valid date; type it as day/month/year.",
    "Ngày này không có trên lịch. Vui lòng kiểm tra lại ngày và tháng.":
        "This date is not on the calendar. Please check the day and month.",
    "Ngày này chưa đến. Vui lòng kiểm tra lại ngày, tháng, năm.":
        "This date has not come yet. Please check the day, month and year.",
    "Ngày này đã qua. Vui lòng chọn một ngày từ hôm nay trở đi.": "This date has passed. Please choose today or later.",
    "Năm phải từ 1900 trở đi. Vui lòng kiểm tra lại năm.": "The year must be 1900 or later. Please check the year.",
    "Vui lòng chỉ nhập chữ số, ví dụ: 2.": "Please type digits only, for example: 2.",
    "Vui lòng chọn một trong các mục trên màn hình.": "Please choose one of the items on the screen.",
    "Vui lòng chọn Có hoặc Không.": "Please choose Yes or No.",
    "Số điện thoại chưa đúng. Hãy nhập 10 chữ số, bắt đầu bằng số 0.":
        "The phone number is wrong. Type 10 digits starting with 0.",
    "Thông tin chưa đúng. Vui lòng nhập lại hoặc hỏi cán bộ tại quầy.":
        "Not right. Please type it again or ask staff at the counter.",
    # ------------------------------------------------------------------ spoken guidance (kiosk.appliance.guide)
    "phím Xanh": "the green key",
    "phím Quay lại": "the back key",
    "phím Đỏ": "the red key",
    "phím Vàng": "the yellow key",
    "phím Nghe lại": "the repeat key",
    "phím Trợ giúp": "the help key",
    "phím Thêm thời gian": "the more time key",
    "Hướng dẫn bàn phím.": "Keypad guide.",
    "Các phím cộng và trừ để chỉnh âm lượng.": "The plus and minus keys change the volume.",
    "Các phím số để chọn hoặc để nhập chữ và số.": "The number keys choose, or type letters and numbers.",
    "Nếu cần giúp, hỏi cán bộ tại quầy.": "If you need help, ask staff at the counter.",
    "Bạn có cần thêm thời gian không?": "Do you need more time?",
    "Chọn thủ tục bạn cần làm.": "Choose the procedure you need.",
    "Đồng ý sử dụng thông tin cá nhân.": "Consent to the use of personal data.",
    "Để lập hồ sơ, máy sẽ dùng thông tin định danh của bạn từ tài khoản VNeID và gửi hồ sơ tới cơ quan giải quyết.":
        "To prepare the application, the kiosk uses your identity data from your VNeID account and sends the "
        "application to the office in charge.",
    "Thông tin trên máy được xóa khi bạn kết thúc.": "The kiosk deletes the information when you finish.",
    "Đăng nhập bằng VNeID.": "Sign in with VNeID.",
    "Mở ứng dụng VNeID trên điện thoại, chọn mã QR đăng nhập, rồi đưa màn hình điện thoại trước camera ở phía dưới "
    "màn hình của máy.": "Open the VNeID app on your phone, choose the sign-in QR code, then hold the phone's screen "
                        "to the camera below the kiosk's screen.",
    "Câu này không bắt buộc:": "This question is optional:",
    "bấm phím thăng để bỏ qua.": "press the hash key to skip it.",
    "Bấm phím thăng để giữ câu trả lời này, hoặc nhập câu trả lời mới.":
        "Press the hash key to keep this answer, or type a new one.",
    "Phím số 1: Có. Phím số 2: Không.": "Key 1: yes. Key 2: no.",
    "Bấm phím thăng khi xong.": "Press the hash key when done.",
    "Quét giấy tờ.": "Scan the documents.",
    "Phím số 1 để quét thêm trang.": "Key 1 scans another page.",
    "Kiểm tra hồ sơ trước khi gửi.": "Check the application before sending.",
    "Máy sẽ gửi mã xác nhận tới điện thoại của bạn.": "The kiosk will send a confirmation code to your phone.",
    "Nhập mã xác nhận.": "Enter the confirmation code.",
    "Đang gửi hồ sơ. Vui lòng chờ, không rời máy.": "Sending the application. Please wait; do not leave the kiosk.",
    "Hồ sơ đã được tiếp nhận.": "The application has been received.",
    "Biên nhận đã in ở khe phía dưới màn hình. Xin hãy lấy biên nhận.":
        "The receipt is printed in the slot below the screen. Please take it.",
    "Đánh giá sự hài lòng.": "Rate the service.",
    "Tra cứu hồ sơ.": "Check an application.",
    "Lấy số thứ tự.": "Get a queue number.",
    "Máy tạm ngừng phục vụ.": "This kiosk is out of service.",
    "Mời bạn đến quầy tiếp nhận để được cán bộ hỗ trợ.": "Please go to the reception counter for help from staff.",
    "Đưa mã QR in trên biên nhận trước camera ở phía dưới màn hình.":
        "Hold the QR code printed on the receipt to the camera below the screen.",
    "Vui lòng chờ.": "Please wait.",
    "Mỗi phím kêu một tiếng bíp; máy không đọc to các chữ số.":
        "Each key beeps; the kiosk does not read the digits aloud.",
    "Khi đủ số, máy tự kiểm tra.": "When all digits are in, the kiosk checks them by itself.",
    "Nhập các chữ số bằng bàn phím số.": "Type the digits on the number keys.",
    "Thông tin thủ tục:": "About the procedure:",
    "Thông tin bạn đã khai.": "What you have entered.",
}

#: (Vietnamese with "{}" for a varying part, English): tried in order after an exact match.
TEMPLATES: list[tuple[str, str]] = [
    ("Bước {}/{}", "Step {}/{}"),
    ("Câu {} / {}", "Question {} / {}"),
    ("Giấy tờ {}/{}", "Document {}/{}"),
    ("Đã quét {} trang", "{} page(s) scanned"),
    ("Trang {} — có vẻ là trang trắng", "Page {} — looks blank"),
    ("Trang {}", "Page {}"),
    ("Xin chào Ông/Bà {}", "Hello, {}"),
    ("Ông/Bà còn {} lần nhập.", "You have {} attempt(s) left."),
    ("Nhập mã gồm {} chữ số trong tin nhắn để xác nhận nộp hồ sơ.",
     "Enter the {}-digit code from the text message to confirm your application."),
    ("Mã xác nhận đã được gửi tới số điện thoại {}", "A confirmation code was sent to the phone number {}"),
    ("Sau {} giây không thao tác, mọi thông tin Ông/Bà đã nhập và giấy tờ đã quét sẽ được xóa để bảo vệ thông tin "
     "cá nhân.", "After {} seconds without activity, everything you entered and scanned will be deleted to protect "
                 "your personal data."),
    ("Đặt “{}” vào khay nạp giấy, mặt có chữ úp xuống, đầu trang vào trước. Sau đó bấm “Quét”.",
     "Put “{}” into the feeder tray face down, top edge first. Then press “Scan”."),
    ("Kiểm tra lại: {}", "Check: {}"),
    ("Tên thủ tục: {}", "Procedure: {}"),
    ("+ Cước bưu điện: {}", "+ Postage: {}"),
    ("Qua bưu điện: nhân viên bưu điện mang kết quả đến tận nhà, cước {}.",
     "By post: a postal worker brings the result to your home; postage {}."),
    ("{} (trả cho bưu điện khi nhận kết quả)", "{} (paid to the postal worker on delivery)"),
    ("{} (nộp cùng lệ phí)", "{} (paid with the fee)"),
    # kiosk.domain.catalog.fee_for: a per-page rate ("2.000 đ/trang, từ trang thứ 3: 1.000 đ/trang, tối đa …")
    ("{}/trang, từ trang thứ {}:", "{} a page; from page {}:"),
    ("{}/trang, tối đa {}/bản", "{} a page, at most {} a copy"),
    ("{}/trang", "{} a page"),
    ("Bạn chưa quét “{}”.", "You have not scanned “{}” yet."),
    ("Mã tra cứu: {}", "Look-up code: {}"),
    ("Mã còn dùng được {} giây. Máy tự đổi mã mới.",
     "The code works for {} more seconds. The kiosk then makes a new one."),
    ("Mã: {}", "Code: {}"),
    ("Cán bộ {} đang hỗ trợ.", "Staff member {} is helping."),
    ("Người nộp: {}", "Applicant: {}"),
    ("Lưu ý: {}", "Note: {}"),
    ("Dành cho kỹ thuật viên: {}", "For the technician: {}"),
    ("Lĩnh vực {}:", "{} procedures:"),
    ("•  {} ({} {}, {})", "•  {} ({} {}, {})"),  # procedure info: a paper, how many of which kind, scanned or shown
    ("» {}", "» {}"),  # the paper being scanned
    ("•  {}: {} trang", "•  {}: {} page(s)"),
    ("{} ngày làm việc, tối đa {} ngày nếu cần xác minh", "{} working days, at most {} if checks are needed"),
    ("{} ngày làm việc", "{} working days"),
    ("Trả kết quả trong ngày (nộp sau {} thì trả vào ngày làm việc tiếp theo)",
     "Result the same day (after {}, the next working day)"),
    ("{}. Có {} người đang chờ trước Ông/Bà.", "{}. {} people are waiting before you."),
    ("Quầy {}", "Counter {}"),
    ("Mã hồ sơ: {}", "Application code: {}"),
    ("Tình trạng: {}", "Status: {}"),
    ("Thủ tục: {}", "Procedure: {}"),
    ("Ngày tiếp nhận: {}", "Received on: {}"),
    ("Ngày hẹn trả kết quả: {}", "Result date: {}"),
    # kiosk.domain.forms.MESSAGES (a field's label stays as the catalogue has it)
    ("Vui lòng nhập số từ {} đến {}.", "Please enter a number from {} to {}."),
    ("Vui lòng nhập {}.", "Please enter: {}."),
    ("Vui lòng chọn {}.", "Please choose: {}."),
    ("Nội dung quá dài: tối đa {} ký tự. Vui lòng viết ngắn lại.",
     "Too long: at most {} characters. Please shorten it."),
    ("Nội dung quá ngắn: cần ít nhất {} ký tự.", "Too short: at least {} characters."),
    # spoken guidance: "{}" is mostly a key's name (phím Xanh -> the green key)
    ("Xin chào. Đây là máy nộp hồ sơ tự phục vụ của {}.", "Hello. This is the self-service application kiosk of {}."),
    ("Bấm {} hoặc phím số 1 để bắt đầu nộp hồ sơ.", "Press {} or key 1 to start an application."),
    ("Phím số 2 để tra cứu hồ sơ đã nộp.", "Key 2 checks an application you made."),
    ("Phím số 3 để lấy số thứ tự.", "Key 3 gets a queue number."),
    ("{} để nghe hướng dẫn về bàn phím.", "{} explains the keypad."),
    ("{} ở góc dưới bên phải để chọn hoặc tiếp tục.", "{}, at the bottom right, chooses or continues."),
    ("{} để quay lại bước trước.", "{} goes back a step."),
    ("{} để hủy và kết thúc.", "{} cancels and ends."),
    ("{} để nghe lại.", "{} repeats."),
    ("{} khi máy hỏi bạn có cần thêm thời gian.", "{} when the kiosk asks whether you need more time."),
    ("Bấm {} hoặc bất kỳ phím nào để tiếp tục.", "Press {} or any key to continue."),
    ("{} để nghe lại danh sách.", "{} repeats the list."),
    ("{} để quay lại.", "{} goes back."),
    ("{} để chọn thủ tục khác.", "{} chooses another procedure."),
    ("Bấm {} để tiếp tục.", "Press {} to continue."),
    ("Bấm {} hoặc phím số 1 để đồng ý.", "Press {} or key 1 to agree."),
    ("Phím số 2 hoặc {} nếu không đồng ý.", "Key 2 or {} if you do not agree."),
    ("Bấm {} để xác nhận.", "Press {} to confirm."),
    ("{} để sửa.", "{} to change something."),
    ("Bấm {} để kết thúc.", "Press {} to finish."),
    ("Bấm {} khi xong.", "Press {} when done."),
    ("{} để xóa.", "{} deletes."),
    ("{} để nhập lại.", "{} starts the code again."),
    ("{} để bỏ qua.", "{} skips."),
    ("Phím số {}:", "Key {}:"),
    ("Câu hỏi {} trên {}:", "Question {} of {}:"),
    ("Câu trả lời hiện có: {}.", "Your answer now: {}."),
    ("Quét giấy tờ {} trên {}:", "Document {} of {}:"),
    ("Đã quét {} trang.", "{} page(s) scanned."),
    ("Giấy tờ đã quét: {} trang.", "Documents scanned: {} page(s)."),
    ("Lệ phí: {}.", "Fee: {}."),
    ("Mã hồ sơ: {}.", "Application code: {}."),
    ("Mã tham chiếu: {}.", "Reference: {}."),
    ("Ngày hẹn trả kết quả: ngày {}.", "Result date: {}."),
    ("Ngày hẹn trả kết quả dự kiến: ngày {}.", "Expected result date: {}."),
    ("Mã xác nhận gồm {} chữ số, đã được gửi bằng tin nhắn.",
     "The confirmation code has {} digits and was sent by text message."),
    ("Số thứ tự của bạn là {}.", "Your queue number is {}."),
    ("Chưa đúng: {}", "Not right yet: {}"),
]
