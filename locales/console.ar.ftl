# Tasdeed — the staff console and the sandbox page, Arabic (the first language).
# Numbers arrive pre-formatted in ASCII digits.

console-name = تسديد · لوحة الموظفين
skip-to-content = انتقل إلى المحتوى
nav-label = أقسام اللوحة
nav-today = اليوم
nav-broadcasts = الرسائل الجماعية
nav-coverage = التغطية
nav-held = دفعات معلّقة
nav-sandbox = التجربة
logout = خروج
language-name = العربية
language-ar = العربية
language-en = الإنجليزية
unknown-governorate = غير معروفة

channel-telegram = تيليغرام
channel-sms = رسائل SMS
channel-sandbox-telegram = تيليغرام (تجربة)
channel-sandbox-sms = SMS (تجربة)
channel-unknown = غير معروفة

## Login

login-title = تسجيل الدخول
login-token = رمز الدخول
login-hint = الرمز هو قيمة TASDEED_ADMIN_TOKEN التي ضبطها المسؤول.
login-submit = دخول
login-wrong = الرمز غير صحيح.
login-locked = محاولات خاطئة كثيرة من هذا العنوان. حاول بعد { $minutes } دقيقة.
login-csrf = انتهت صلاحية النموذج. أعد المحاولة.
login-ended = تم تسجيل الخروج.
forbidden-title = طلب مرفوض
forbidden-csrf = لم يصدر هذا النموذج عن هذه الجلسة، أو انتهت صلاحيته. لم يتغيّر شيء.
forbidden-back = عودة إلى الصفحة

## Today

today-title = اليوم في لمحة
today-since = منذ { $time }
card-payments = دفعات اليوم
card-paid = مدفوعة ({ $count } دفعة ناجحة)
card-pending = بانتظار مزوّد الدفع
card-held = دفعات معلّقة للموظفين
today-by-biller = الدفعات حسب الجهة
today-by-governorate = الدفعات حسب المحافظة
today-pending = أقدم الدفعات المفتوحة
today-messages = الرسائل حسب القناة
today-no-payments = لا دفعات اليوم.
today-no-pending = لا دفعات مفتوحة.
today-no-messages = لا رسائل اليوم.
payment-status-created = أُنشئت
payment-status-pending = قيد التنفيذ
payment-status-succeeded = نجحت
payment-status-failed = فشلت
payment-status-expired = انتهت مهلتها
payment-status-held = معلّقة
chart-billers = المبلغ المدفوع اليوم لكل جهة (ل.س)
chart-governorates = عدد الدفعات اليوم لكل محافظة
chart-messages = الرسائل لكل قناة: أُرسلت، وصلت، فشلت

col-biller = الجهة
col-governorate = المحافظة
col-payments = الدفعات
col-succeeded = ناجحة
col-amount = المبلغ
col-open = مفتوحة
col-held = معلّقة
col-failed = فشلت
col-ref = المرجع
col-account = الحساب
col-channel = القناة
col-status = الحالة
col-started = البدء
col-sent = أُرسلت
col-delivered = وصلت
col-queued = في الانتظار
col-skipped = تُخطّيت
col-recipients = المستلمون
col-time = الوقت
col-text = النص
col-audience = الجمهور
col-actions = إجراءات
col-reason = السبب

## Broadcasts

broadcasts-title = الرسائل الجماعية
compose-title = رسالة جديدة
compose-text-ar = النص بالعربية
compose-text-en = النص بالإنجليزية (اختياري، لمن اختار الإنجليزية)
compose-characters = الأحرف
compose-parts = أجزاء SMS
compose-encoding = الترميز
compose-audience = الجمهور
audience-all = جميع المشتركين
audience-filter = حسب الاختيار أدناه
audience-filter-hint = يجب أن يطابق المستلم كل ما تختاره (محافظة وجهة ولغة).
audience-governorates = المحافظات
audience-billers = الجهات
audience-languages = اللغات
compose-channels = القنوات
compose-urgent = عاجلة
compose-urgent-hint = تُرسل في ساعات الهدوء أيضاً.
preview-parts-per = أجزاء الرسالة الواحدة
preview-parts-total = مجموع أجزاء SMS (الكلفة)
compose-preview = معاينة
compose-send = إرسال
progress-title = تقدّم الإرسال
progress-done = أُنجز
broadcast-status-planning = قيد التحضير
broadcast-status-sending = قيد الإرسال
broadcast-status-done = اكتملت
broadcast-status-cancelled = أُلغيت
broadcast-cancel = إلغاء ما لم يُرسل
broadcast-watch = التفاصيل
past-title = الرسائل السابقة
past-none = لم تُرسل رسائل جماعية بعد.
tag-urgent = عاجلة
notice-broadcast-cancelled = أُلغيت الرسالة: لن يُرسل ما تبقّى منها.
problem-audience-empty = اختر الجمهور: الجميع، أو محافظة أو جهة أو لغة.
problem-channels-empty = اختر قناة واحدة على الأقل.
problem-preview-failed = تعذّر حساب عدد المستلمين.
problem-bad-form = النموذج غير صالح.
problem-text-empty = اكتب نص الرسالة بالعربية.
problem-text-long = النص أطول من 670 حرفاً.

## Coverage

coverage-title = تغطية الدفع الإلكتروني
coverage-hint = اضغط خانة لتبديلها بين متاح وغير متاح. يُطبّق التغيير فوراً على المحادثات.
coverage-caption = الجهات حسب المحافظة
coverage-cell-on = { $biller } في { $governorate }: متاح. اضغط لجعله غير متاح.
coverage-cell-off = { $biller } في { $governorate }: غير متاح. اضغط لجعله متاحاً.
coverage-on = متاح
coverage-off = غير متاح
coverage-changes = آخر التغييرات
coverage-no-changes = لم يغيّر الموظفون شيئاً بعد.
notice-coverage-saved = حُفظ التغيير.

## Held payments

held-title = دفعات معلّقة للموظفين
held-hint = دفعات تحتاج قراراً: مبلغ مختلف عن الفاتورة، أو تأكيد لم يصل، أو تعارض مع الجهة.
held-none = لا دفعات معلّقة.
held-confirmed = المبلغ المؤكَّد
held-provider-ref = مرجع المزوّد
held-audit = سجل التدقيق ({ $count })
held-decision = القرار
held-succeeded = نجحت (تُعتبر مدفوعة)
held-failed = فشلت (تُلغى)
held-note = ملاحظة (تُحفظ في السجل)
held-resolve = تسوية
held-reason-amount_mismatch = المبلغ المؤكَّد لا يطابق الفاتورة
held-reason-reconciliation_exhausted = لم يُعرف مصيرها بعد محاولات التحقق
held-reason-biller_conflict = رفضت الجهة التسوية
held-reason-late_success = نجحت بعد انتهاء مهلتها
held-reason-unknown = غير معروف
audit-action-create = إنشاء
audit-action-transition = تغيّر الحالة
audit-action-webhook = إشعار من قناة الدفع
audit-action-resolve = قرار الموظفين
audit-action-settled = سُوّيت مع الجهة
audit-action-settlement-conflict = تعارض مع الجهة
notice-held-resolved = سُوّيت الدفعة { $ref }.
problem-resolve-form = اختر القرار واكتب ملاحظة.
problem-not-held = الدفعة { $ref } لم تعد معلّقة.

## Sandbox page

sandbox-title = جرّب تسديد
sandbox-brand = تسديد · التجربة
sandbox-intro = هاتفان يتحدثان إلى تسديد عبر قناة التجربة: لا رسائل حقيقية ولا مال حقيقي. جرّب: فاتورة كهرباء 1000101، ثم ادفع.
sandbox-telegram-title = تيليغرام
sandbox-sms-title = هاتف عادي (SMS)
sandbox-telegram-log = محادثة تيليغرام
sandbox-sms-log = رسائل SMS
sandbox-you-are = أنت:
sandbox-new-person = شخص جديد
sandbox-message = رسالتك
sandbox-send = إرسال
sandbox-parts = أجزاء
sandbox-later = وصلت لاحقاً
sandbox-failed = تعذّر الإرسال. حاول مجدداً.
sandbox-pressed = ضغطت
