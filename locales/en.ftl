# Tasdeed — English. Every message may carry an .sms variant that fits one SMS segment
# (160 GSM-7 characters). Amounts, dates and numbers arrive pre-formatted in ASCII digits.

## Time

age = { $unit ->
    [minutes] { $plural ->
        [one] 1 minute ago
       *[other] { $count } minutes ago
    }
    [hours] { $plural ->
        [one] 1 hour ago
       *[other] { $count } hours ago
    }
   *[days] { $plural ->
        [one] 1 day ago
       *[other] { $count } days ago
    }
}

## Help and onboarding

welcome = Welcome to Tasdeed. Ask for a bill: BILL electricity and the account number. Help: HELP
help = Send: BILL elec 1234567 to see a bill, PAY elec 1234567 to pay, ADD elec 1234567 for reminders, ACCOUNTS, STOP to end messages.
help-short = Sorry, I did not understand. Example: BILL elec 1234567. Send HELP for more.
stopped = Tasdeed messages stopped. Send START to get them again.
choice-invalid = Pick a number from the list, or send CANCEL.
cancelled = Cancelled.
nothing-to-cancel = Nothing to cancel.

## Bills

bill-line = { $biller } { $account }: { $amount }, period { $period }, { $overdue ->
        [yes] overdue since { $due }
       *[no] due { $due }
    }
    .sms = { $biller } { $account }: { $amount }, period { $period }, { $overdue ->
        [yes] overdue
       *[no] due { $due }
    }
bill-none-due = { $biller } { $account }: no bills due.
bill-cached = Last known bill, { $age }; { $biller } is not answering now.
biller-unavailable = { $biller } is not answering now. Please try later.
account-unknown = No account { $account } at { $biller }. Please check the number.
account-invalid = { $account } is not a valid { $biller } account number.
# The biller is missing; the example uses the verb the person sent.
need-biller-bill = Which service? Example: BILL electricity 1234567
need-biller-pay = Which service? Example: PAY electricity 1234567
need-biller-add = Which service? Example: ADD electricity 1234567
need-biller-remove = Which service? Example: REMOVE electricity 1234567
# The biller is known and the account number is awaited: the number alone answers, whatever was asked.
need-account = Send only the { $biller } account number. Example: 1234567

## Followed accounts and settings

no-follows = You follow no accounts. Send: ADD electricity 1234567
followed = Following { $biller } { $account } ({ $holder }). You will get bill reminders.
    .sms = Following { $biller } { $account } ({ $holder }).
already-followed = You already follow { $biller } { $account } ({ $holder }).
unfollowed = Stopped following { $biller } { $account }.
not-followed = You do not follow { $biller } { $account }.
accounts-header = Your accounts ({ $count }):
accounts-item = { $biller } { $account }
# TASDEED_MAX_FOLLOWS reached: the ADD changed nothing.
follows-full = You follow the most accounts allowed ({ $count }). Send ACCOUNTS to see which to remove, then e.g. REMOVE elec 1234567
# The end of a page of a long answer: $range is "1-3" (or "4" alone), $count all of them.
more-footer = { $range } of { $count }, MORE
more-none = Nothing more to show. Send HELP for the commands.
# The More of an older list (a Telegram button), pressed after the list was asked for again.
more-stale = This list has changed. Send the command again.
remind-on = Reminders are on.
remind-off = Reminders are off.
language-set = Messages will be in English.
gov-set = Your governorate: { $gov }
gov-unknown = Unknown governorate. Example: GOV DAM
old-on = Amounts will also show in old pounds.
old-off = Amounts will show in new pounds only, except bills from before 2026.
notify-which = Which service? Example: NOTIFY electricity
notify-set = We will tell you when { $name } is back.
notify-up = { $name } is working now.
back-online = { $name } is back. You can try again now.
watch-set = We will tell you when the payment completes.

## Reminders (sent before and after a bill's due date; $days is whole days from today)

reminder-before = Reminder: your { $biller } { $account } bill of { $amount } is due on { $due }.
    .sms = Reminder: { $biller } { $account }: { $amount } due { $due }
reminder-today = Reminder: your { $biller } { $account } bill of { $amount } is due today.
    .sms = Reminder: { $biller } { $account }: { $amount } due today
reminder-overdue = Your { $biller } { $account } bill of { $amount } was due on { $due } and is unpaid.
    .sms = Overdue: { $biller } { $account }: { $amount } since { $due }

## Payments

choose-channel = Pay { $amount } for { $biller } { $account } with:
ask-wallet = Send the phone number registered with your wallet or bank account, e.g. 0944123456
wallet-invalid = That is not a phone number. Send e.g. 0944123456, or CANCEL.
pay-started = Payment { $ref }: { $amount } for { $biller } { $account } via { $channel }. Confirm it on your phone; a receipt will follow.
pay-instructions = { $text }
# The simulated payment channel's own instructions (src/adapters/payment/simulated.payment.ts).
simulated-pay-instructions = Approve the payment of { $amount } in your wallet app. Ref { $ref }
pay-same = Payment { $ref } for this bill is already in progress.
pay-other-payer = Someone else started paying { $biller } { $account }. Shall we tell you when it completes?
pay-channel-unavailable = { $channel } is not answering. We will retry payment { $ref } and tell you the result.
pay-channel-unavailable-now = No payment channel is available now. Please try later.
pay-biller-unavailable = Cannot start a payment now: { $biller } is not answering. Please try later.
# A limit on starting payments was reached (TASDEED_MAX_OPEN_PAYMENTS, TASDEED_PAYMENT_STARTS_PER_HOUR): nothing was started. $time is a local HH:MM.
pay-limit-open = Your payments in progress reached the limit ({ $count }). Pay this bill once one of them succeeds or fails; one held for review ends only when our staff decide it.
pay-limit-starts = You have started the most payments allowed in an hour ({ $count }). Try again after { $time }.
pay-limit-payer = Payments from this wallet number reached the limit of { $count } an hour. Try again after { $time }.
pay-uncovered = E-payment for { $biller } is not available in { $gov } yet. Please pay at the nearest { $biller } service centre.
receipt = Receipt: paid { $amount } for { $biller } { $account } via { $channel }. Ref { $ref }
payment-failed = Payment { $ref } for { $biller } { $account } did not go through. You can try again.
payment-held = Payment { $ref } needs a check by our staff; we will contact you.
payment-done-watch = The payment of { $biller } { $account } is complete.
payment-failed-watch = The payment of { $biller } { $account } did not complete. You can pay now.

## Choices (button labels and numbered SMS options)

choice-pay = Pay
choice-follow = Follow
choice-notify = Tell me when back
choice-watch = Tell me when done
choice-bill = { $biller } { $account }
choice-see-bill = See the bill
choice-biller = { $biller }
choice-channel = { $channel }
choice-more = More

## Telegram (buttons, commands and staff tools; never sent by SMS)

tg-choose-language = Choose your language:
choice-language-ar = العربية
choice-language-en = English
tg-choose-gov = Which governorate do you live in? (It decides where e-payment is available.)
choice-gov = { $gov }
tg-tour = A short tour: /follow to follow an account and get reminders, /bills for your bills, /accounts for your accounts, /reminders, /language, /help, /stop to end messages. You can also type: BILL electricity 1234567
tg-help = Commands: /follow an account, /bills, /accounts, /reminders, /language, /stop messages.
tg-reminders-on = Bill reminders are on.
tg-reminders-off = Bill reminders are off.
choice-remind-on = Reminders on
choice-remind-off = Reminders off
choice-unfollow = Stop following { $biller } { $account }
choice-share-contact = Share my number
tg-contact-not-own = Send your own number, or type the wallet number.
tg-button-stale = This button is out of date. Send /help to start again.
tg-button-done = Done.
tg-group-private-only = I only work in private chats, not in groups: each person has their own accounts and wallet number. Message me here:
    { $link }
tg-coverage-pick = E-payment coverage. Choose a service:
tg-coverage-of = { $biller }: ✅ available, ❌ not available. Press to switch.
choice-coverage = { $mark } { $gov }
tg-coverage-set = { $biller } in { $gov }: { $state }
coverage-on = available
coverage-off = not available
tg-broadcast-ask-text = Type the broadcast in Arabic (up to { $max } characters), or send: CANCEL
tg-broadcast-too-long = The text is longer than { $max } characters ({ $length }). Send a shorter one.
tg-broadcast-pick-audience = Who should get it?
tg-broadcast-pick-one = Choose:
tg-broadcast-choice-all = Everyone
tg-broadcast-choice-gov = By governorate
tg-broadcast-choice-biller = By service
tg-broadcast-choice-lang = By language
tg-broadcast-choice-drop = Cancel
tg-broadcast-choice-send = Send
tg-broadcast-choice-urgent = Urgent send
tg-broadcast-choice-progress = Progress
tg-broadcast-choice-cancel = Stop the broadcast
tg-broadcast-audience-all = everyone
tg-broadcast-audience = Audience: { $audience }
tg-broadcast-nobody = Nobody is in this audience. Choose another.
tg-broadcast-preview = Broadcast preview:
tg-broadcast-text = { $text }
tg-broadcast-figures = Recipients: { $recipients }. SMS parts per message: { $parts }; in all: { $total }.
tg-broadcast-quiet-note = "Send" waits for the quiet hours to end; "Urgent send" does not.
tg-broadcast-created = Broadcast { $id } started.
tg-broadcast-progress = { $id }: { $status }. Recipients { $recipients }: sent { $sent } (delivered { $delivered }), waiting { $queued }, failed { $failed }, skipped { $skipped }, cancelled { $cancelled }.
tg-broadcast-status-planning = preparing
tg-broadcast-status-sending = sending
tg-broadcast-status-done = done
tg-broadcast-status-cancelled = cancelled
tg-broadcast-cancelled = Broadcast { $id } cancelled: what was not sent yet will not be sent.
tg-broadcast-finished = Broadcast { $id } had finished before the cancel.
tg-broadcast-unknown = No broadcast { $id }.
tg-cmd-start = Start and choose a language
tg-cmd-follow = Follow an account
tg-cmd-bills = My bills
tg-cmd-accounts = My accounts
tg-cmd-reminders = Reminders
tg-cmd-language = Language
tg-cmd-help = Help
tg-cmd-stop = Stop messages
