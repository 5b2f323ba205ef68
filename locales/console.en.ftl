# Tasdeed — the staff console and the sandbox page, English.

console-name = Tasdeed · Staff console
skip-to-content = Skip to content
nav-label = Console sections
nav-today = Today
nav-broadcasts = Broadcasts
nav-coverage = Coverage
nav-held = Held payments
nav-sandbox = Sandbox
logout = Log out
language-name = English
language-ar = Arabic
language-en = English
unknown-governorate = Unknown

channel-telegram = Telegram
channel-sms = SMS
channel-sandbox-telegram = Telegram (sandbox)
channel-sandbox-sms = SMS (sandbox)
channel-unknown = Unknown

## Login

login-title = Log in
login-token = Access token
login-hint = The token is the TASDEED_ADMIN_TOKEN your administrator configured.
login-submit = Log in
login-wrong = Wrong token.
login-locked = Too many failed attempts from this address. Try again in { $minutes } min.
login-csrf = The form expired. Please try again.
login-ended = You are logged out.
forbidden-title = Request refused
forbidden-csrf = This form did not come from this session, or it expired. Nothing was changed.
forbidden-back = Back to the page

## Today

today-title = Today at a glance
today-since = Since { $time }
card-payments = Payments today
card-paid = Paid ({ $count } succeeded)
card-pending = Waiting for the provider
card-held = Held for staff
today-by-biller = Payments by biller
today-by-governorate = Payments by governorate
today-pending = Oldest open payments
today-messages = Messages by channel
today-no-payments = No payments today.
today-no-pending = No open payments.
today-no-messages = No messages today.
payment-status-created = Created
payment-status-pending = Pending
payment-status-succeeded = Succeeded
payment-status-failed = Failed
payment-status-expired = Expired
payment-status-held = Held
chart-billers = Amount paid today per biller (SYP)
chart-governorates = Payments today per governorate
chart-messages = Messages per channel: sent, delivered, failed

col-biller = Biller
col-governorate = Governorate
col-payments = Payments
col-succeeded = Succeeded
col-amount = Amount
col-open = Open
col-held = Held
col-failed = Failed
col-ref = Reference
col-account = Account
col-channel = Channel
col-status = Status
col-started = Started
col-sent = Sent
col-delivered = Delivered
col-queued = Queued
col-skipped = Skipped
col-recipients = Recipients
col-time = Time
col-text = Text
col-audience = Audience
col-actions = Actions
col-reason = Reason

## Broadcasts

broadcasts-title = Broadcasts
compose-title = New broadcast
compose-text-ar = Arabic text
compose-text-en = English text (optional, for subscribers who chose English)
compose-characters = Characters
compose-parts = SMS parts
compose-encoding = Encoding
compose-audience = Audience
audience-all = Every subscriber
audience-filter = As chosen below
audience-filter-hint = A recipient must match everything you choose (governorate, biller and language).
audience-governorates = Governorates
audience-billers = Billers
audience-languages = Languages
compose-channels = Channels
compose-urgent = Urgent
compose-urgent-hint = Sent during quiet hours too.
preview-parts-per = Parts per message
preview-parts-total = SMS parts in total (cost)
compose-preview = Preview
compose-send = Send
progress-title = Progress
progress-done = Done
broadcast-status-planning = Preparing
broadcast-status-sending = Sending
broadcast-status-done = Done
broadcast-status-cancelled = Cancelled
broadcast-cancel = Cancel what is not sent
broadcast-watch = Details
past-title = Past broadcasts
past-none = No broadcast sent yet.
tag-urgent = urgent
notice-broadcast-cancelled = Broadcast cancelled: nothing more of it will be sent.
problem-audience-empty = Choose an audience: everyone, or a governorate, biller or language.
problem-channels-empty = Choose at least one channel.
problem-preview-failed = Could not count the recipients.
problem-bad-form = The form is not valid.
problem-text-empty = Write the Arabic text.
problem-text-long = The text is longer than 670 characters.

## Coverage

coverage-title = E-payment coverage
coverage-hint = Press a cell to switch it between available and unavailable. Conversations use the change at once.
coverage-caption = Billers by governorate
coverage-cell-on = { $biller } in { $governorate }: available. Press to make it unavailable.
coverage-cell-off = { $biller } in { $governorate }: unavailable. Press to make it available.
coverage-on = Available
coverage-off = Unavailable
coverage-changes = Latest changes
coverage-no-changes = Staff have not changed anything yet.
notice-coverage-saved = Change saved.

## Held payments

held-title = Payments held for staff
held-hint = Payments that need a decision: an amount that differs from the bill, a confirmation that never came, or a biller conflict.
held-none = No held payments.
held-confirmed = Confirmed amount
held-provider-ref = Provider reference
held-audit = Audit trail ({ $count })
held-decision = Decision
held-succeeded = Succeeded (counts as paid)
held-failed = Failed (cancelled)
held-note = Note (kept in the audit trail)
held-resolve = Resolve
held-reason-amount_mismatch = The confirmed amount differs from the bill
held-reason-reconciliation_exhausted = Outcome still unknown after every check
held-reason-biller_conflict = The biller refused the settlement
held-reason-late_success = Succeeded after its deadline
held-reason-unknown = Unknown
audit-action-create = Created
audit-action-transition = Status changed
audit-action-webhook = Payment channel notice
audit-action-resolve = Staff decision
audit-action-settled = Settled with the biller
audit-action-settlement-conflict = Biller conflict
notice-held-resolved = Payment { $ref } resolved.
problem-resolve-form = Choose a decision and write a note.
problem-not-held = Payment { $ref } is no longer held.

## Sandbox page

sandbox-title = Try Tasdeed
sandbox-brand = Tasdeed · Sandbox
sandbox-intro = Two phones talking to Tasdeed through the sandbox channel: no real messages, no real money. Try: BILL electricity 1000101, then pay.
sandbox-telegram-title = Telegram
sandbox-sms-title = Feature phone (SMS)
sandbox-telegram-log = Telegram chat
sandbox-sms-log = SMS messages
sandbox-you-are = You are:
sandbox-new-person = New person
sandbox-message = Your message
sandbox-send = Send
sandbox-parts = Parts
sandbox-later = Arrived later
sandbox-failed = Could not send. Try again.
sandbox-pressed = Pressed
