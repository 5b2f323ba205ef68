# Tasdeed — Arabic (the first language). Every message may carry an .sms variant that fits
# one SMS segment (70 characters). Amounts, dates and numbers arrive pre-formatted in ASCII digits.

## Time

age = { $unit ->
    [minutes] { $plural ->
        [one] منذ دقيقة
        [two] منذ دقيقتين
        [few] منذ { $count } دقائق
       *[other] منذ { $count } دقيقة
    }
    [hours] { $plural ->
        [one] منذ ساعة
        [two] منذ ساعتين
        [few] منذ { $count } ساعات
       *[other] منذ { $count } ساعة
    }
   *[days] { $plural ->
        [one] منذ يوم
        [two] منذ يومين
        [few] منذ { $count } أيام
       *[other] منذ { $count } يوماً
    }
}

## Help and onboarding

welcome = أهلاً بك في تسديد. اسأل عن فاتورتك: فاتورة كهرباء ورقم الحساب. للمساعدة: مساعدة
    .sms = تسديد: أرسل فاتورة كهرباء ورقم الحساب. للمساعدة: مساعدة
help = أرسل: فاتورة كهرباء 1234567 للاستعلام، ادفع كهرباء 1234567 للدفع، اشترك كهرباء 1234567 للتذكير، إيقاف لإلغاء الرسائل.
    .sms = فاتورة/ادفع/اشترك كهرباء 1234567، حساباتي، إيقاف
help-short = لم أفهم. مثال: فاتورة كهرباء 1234567. للمساعدة أرسل: مساعدة
    .sms = لم أفهم. مثال: فاتورة كهرباء 1234567. للمساعدة: مساعدة
stopped = تم إيقاف رسائل تسديد. لإعادتها أرسل: بدء
choice-invalid = اختر رقماً من القائمة أو أرسل: الغاء
cancelled = تم الإلغاء.
nothing-to-cancel = لا شيء لإلغائه.

## Bills

bill-line = { $biller } { $account }: { $amount }، دورة { $period }، { $overdue ->
        [yes] متأخرة منذ { $due }
       *[no] تستحق { $due }
    }
    .sms = { $biller } { $account }: { $amount }، { $period }، { $overdue ->
        [yes] متأخرة
       *[no] حتى { $due }
    }
bill-none-due = { $biller } { $account }: لا فواتير مستحقة.
bill-cached = آخر فاتورة معروفة { $age }؛ { $biller } لا تستجيب الآن.
    .sms = آخر فاتورة معروفة { $age }؛ الجهة لا تستجيب الآن.
biller-unavailable = { $biller } لا تستجيب الآن. حاول لاحقاً.
account-unknown = لا يوجد حساب { $account } لدى { $biller }. تحقق من الرقم.
account-invalid = { $account } ليس رقم حساب { $biller } صحيحاً.
# The biller is missing; the example uses the verb the person sent.
need-biller-bill = أي خدمة؟ مثال: فاتورة كهرباء 1234567
need-biller-pay = أي خدمة؟ مثال: ادفع كهرباء 1234567
need-biller-add = أي خدمة؟ مثال: اشترك كهرباء 1234567
need-biller-remove = أي خدمة؟ مثال: حذف كهرباء 1234567
# The biller is known and the account number is awaited: the number alone answers, whatever was asked.
need-account = أرسل رقم حساب { $biller } فقط. مثال: 1234567

## Followed accounts and settings

no-follows = لا حسابات لديك. أرسل: اشترك كهرباء 1234567
followed = تمت متابعة { $biller } { $account } ({ $holder }). ستصلك تذكيرات بالفواتير.
    .sms = تمت متابعة { $biller } { $account } ({ $holder })
already-followed = أنت تتابع { $biller } { $account } ({ $holder }) مسبقاً.
unfollowed = أُلغيت متابعة { $biller } { $account }.
not-followed = لا تتابع { $biller } { $account }.
accounts-header = حساباتك ({ $count }):
accounts-item = { $biller } { $account }
# TASDEED_MAX_FOLLOWS reached: the ADD changed nothing.
follows-full = بلغتَ الحد الأقصى للحسابات المتابَعة ({ $count }). أرسل حساباتي لترى ما تحذفه، ثم مثلاً: حذف كهرباء 1234567
    .sms = بلغتَ الحد الأقصى للحسابات المتابَعة ({ $count }). أرسل حساباتي لترى ما تحذفه
# The end of a page of a long answer: $range is "1-3" (or "4" alone), $count all of them.
more-footer = { $range } من { $count }، أرسل المزيد
more-none = لا مزيد لعرضه. للمساعدة أرسل: مساعدة
# The More of an older list (a Telegram button), pressed after the list was asked for again.
more-stale = تغيّرت هذه القائمة. أرسل الأمر من جديد.
remind-on = التذكيرات مفعّلة.
remind-off = التذكيرات متوقفة.
language-set = ستصلك الرسائل بالعربية.
gov-set = محافظتك: { $gov }
gov-unknown = لم أعرف المحافظة. مثال: محافظة دمشق
old-on = ستظهر المبالغ بالليرة القديمة أيضاً.
old-off = ستظهر المبالغ بالليرة الجديدة فقط، إلا فواتير ما قبل 2026.
notify-which = عن أي خدمة نخبرك؟ مثال: أخبرني كهرباء
notify-set = سنخبرك عندما تعود { $name } للعمل.
notify-up = { $name } تعمل الآن.
back-online = عادت { $name } للعمل. يمكنك المحاولة الآن.
watch-set = سنخبرك عندما تكتمل عملية الدفع.

## Reminders (sent before and after a bill's due date; $days is whole days from today)

reminder-before = تذكير: فاتورة { $biller } { $account } بقيمة { $amount } تستحق في { $due }.
    .sms = تذكير: { $biller } { $account }: { $amount } تستحق { $due }
reminder-today = تذكير: فاتورة { $biller } { $account } بقيمة { $amount } تستحق اليوم.
    .sms = تذكير: { $biller } { $account }: { $amount } تستحق اليوم
reminder-overdue = فاتورة { $biller } { $account } بقيمة { $amount } تأخرت عن موعدها في { $due }.
    .sms = متأخرة: { $biller } { $account }: { $amount } منذ { $due }

## Payments

choose-channel = ادفع { $amount } لفاتورة { $biller } { $account } عبر:
ask-wallet = أرسل رقم الهاتف المسجّل في محفظتك أو حسابك المصرفي، مثال: 0944123456
wallet-invalid = هذا ليس رقم هاتف. أرسل مثلاً 0944123456 أو: الغاء
pay-started = الدفعة { $ref }: { $amount } لفاتورة { $biller } { $account } عبر { $channel }. أكّدها من هاتفك وسيصلك إيصال.
    .sms = دفعة { $ref }: { $amount }. أكّدها من هاتفك.
pay-instructions = { $text }
# The simulated payment channel's own instructions (src/adapters/payment/simulated.payment.ts).
simulated-pay-instructions = وافق على { $amount } في محفظتك. المرجع { $ref }
pay-same = الدفعة { $ref } لهذه الفاتورة قيد التنفيذ.
pay-other-payer = شخص آخر بدأ دفع { $biller } { $account }. هل نخبرك عند اكتمالها؟
    .sms = شخص آخر يدفع هذه الفاتورة الآن.
pay-channel-unavailable = { $channel } لا تستجيب الآن. سنعيد المحاولة للدفعة { $ref } ونخبرك بالنتيجة.
    .sms = { $channel } لا تستجيب. سنخبرك بنتيجة { $ref }
pay-channel-unavailable-now = لا توجد وسيلة دفع متاحة الآن. حاول لاحقاً.
pay-biller-unavailable = لا يمكن بدء الدفع الآن: { $biller } لا تستجيب. حاول لاحقاً.
# A limit on starting payments was reached (TASDEED_MAX_OPEN_PAYMENTS, TASDEED_PAYMENT_STARTS_PER_HOUR): nothing was started. $time is a local HH:MM.
pay-limit-open = دفعاتك الجارية بلغت الحد الأقصى ({ $count }). ادفع هذه الفاتورة بعد نجاح إحداها أو فشلها؛ والدفعة المحتجزة للمراجعة لا تنتهي إلا بقرار من فريقنا.
    .sms = دفعاتك الجارية بلغت الحد ({ $count }). ادفع بعد انتهاء إحداها أو قرار فريقنا.
pay-limit-starts = دفعاتك بلغت الحد الأقصى في الساعة ({ $count }). حاول بعد { $time }.
pay-limit-payer = رقم المحفظة هذا بلغ حد الدفعات في الساعة ({ $count }). حاول بعد { $time }.
pay-uncovered = الدفع الإلكتروني لـ { $biller } غير متاح في { $gov } بعد. ادفع في أقرب مركز خدمة لـ { $biller }.
    .sms = الدفع الإلكتروني غير متاح في { $gov }. ادفع في مركز الخدمة.
receipt = إيصال: دُفع { $amount } لفاتورة { $biller } { $account } عبر { $channel }. المرجع { $ref }
payment-failed = لم تتم الدفعة { $ref } لفاتورة { $biller } { $account }. يمكنك المحاولة مجدداً.
    .sms = لم تتم الدفعة { $ref }. يمكنك المحاولة مجدداً.
payment-held = الدفعة { $ref } تحتاج مراجعة من فريقنا، وسنتواصل معك.
payment-done-watch = اكتمل دفع { $biller } { $account }.
payment-failed-watch = لم يكتمل دفع { $biller } { $account }. يمكنك الدفع الآن.

## Choices (button labels and numbered SMS options)

choice-pay = ادفع
choice-follow = تابع
choice-notify = أخبرني عند العودة
choice-watch = أخبرني عند الاكتمال
choice-bill = { $biller } { $account }
choice-see-bill = الفاتورة
choice-biller = { $biller }
choice-channel = { $channel }
choice-more = المزيد

## Telegram (buttons, commands and staff tools; never sent by SMS)

tg-choose-language = اختر اللغة:
choice-language-ar = العربية
choice-language-en = English
tg-choose-gov = في أي محافظة تسكن؟ (تحدد توفر الدفع الإلكتروني)
choice-gov = { $gov }
tg-tour = جولة سريعة: /follow لمتابعة حساب وتلقي التذكير، /bills لفواتيرك، /accounts لحساباتك، /reminders للتذكير، /language للغة، /help للمساعدة، /stop لإيقاف الرسائل. ويمكنك الكتابة أيضاً: فاتورة كهرباء 1234567
tg-help = الأوامر: /follow متابعة حساب، /bills الفواتير، /accounts الحسابات، /reminders التذكير، /language اللغة، /stop إيقاف الرسائل.
tg-reminders-on = التذكير بالفواتير مفعّل.
tg-reminders-off = التذكير بالفواتير متوقف.
choice-remind-on = تشغيل التذكير
choice-remind-off = إيقاف التذكير
choice-unfollow = إلغاء متابعة { $biller } { $account }
choice-share-contact = مشاركة رقمي
tg-contact-not-own = أرسل رقمك أنت، أو اكتب رقم المحفظة.
tg-button-stale = هذا الزر قديم. أرسل /help للبدء من جديد.
tg-button-done = تم.
tg-group-private-only = أعمل في المحادثات الخاصة فقط، لا في المجموعات: لكل شخص حساباته ورقم محفظته. راسلني هنا:
    { $link }
tg-coverage-pick = تغطية الدفع الإلكتروني. اختر الخدمة:
tg-coverage-of = { $biller }: ✅ متاح، ❌ غير متاح. اضغط للتبديل.
choice-coverage = { $mark } { $gov }
tg-coverage-set = { $biller } في { $gov }: { $state }
coverage-on = متاح
coverage-off = غير متاح
tg-broadcast-ask-text = اكتب نص البث بالعربية (حتى { $max } حرفاً)، أو أرسل: الغاء
tg-broadcast-too-long = النص أطول من { $max } حرفاً ({ $length }). أرسل نصاً أقصر.
tg-broadcast-pick-audience = لمن نرسله؟
tg-broadcast-pick-one = اختر:
tg-broadcast-choice-all = الجميع
tg-broadcast-choice-gov = حسب المحافظة
tg-broadcast-choice-biller = حسب الخدمة
tg-broadcast-choice-lang = حسب اللغة
tg-broadcast-choice-drop = إلغاء
tg-broadcast-choice-send = إرسال
tg-broadcast-choice-urgent = إرسال عاجل
tg-broadcast-choice-progress = التقدم
tg-broadcast-choice-cancel = إيقاف البث
tg-broadcast-audience-all = الجميع
tg-broadcast-audience = الجمهور: { $audience }
tg-broadcast-nobody = لا أحد في هذا الجمهور. اختر غيره.
tg-broadcast-preview = معاينة البث:
tg-broadcast-text = { $text }
tg-broadcast-figures = المستلمون: { $recipients }. أجزاء SMS للرسالة: { $parts }، والمجموع: { $total }.
tg-broadcast-quiet-note = «إرسال» ينتظر انتهاء ساعات الهدوء، و«إرسال عاجل» لا ينتظر.
tg-broadcast-created = بدأ البث { $id }.
tg-broadcast-progress = { $id }: { $status }. المستلمون { $recipients }: أُرسل { $sent } (وصل { $delivered })، ينتظر { $queued }، فشل { $failed }، تُخطّي { $skipped }، أُلغي { $cancelled }.
tg-broadcast-status-planning = قيد التحضير
tg-broadcast-status-sending = قيد الإرسال
tg-broadcast-status-done = انتهى
tg-broadcast-status-cancelled = أُلغي
tg-broadcast-cancelled = أُلغي البث { $id }: لن يُرسل ما بقي منه.
tg-broadcast-finished = انتهى البث { $id } قبل الإلغاء.
tg-broadcast-unknown = لا يوجد بث { $id }.
tg-cmd-start = البدء واختيار اللغة
tg-cmd-follow = متابعة حساب
tg-cmd-bills = فواتيري
tg-cmd-accounts = حساباتي
tg-cmd-reminders = التذكير
tg-cmd-language = اللغة
tg-cmd-help = المساعدة
tg-cmd-stop = إيقاف الرسائل
