"""Slack: the Block Kit messages of an incident, their delivery, and the buttons' clicks.

One module per message kind, each a pure renderer (Report + Incident -> Message, English and
Korean):

    alert.py        the new-incident message (`render_alert`)
    repeat.py       the "failed again" thread reply (`render_repeat`)
    recovery.py     the "recovered" thread reply (`render_recovered`)
    digest.py       the parent of a digest thread in a failure storm (`render_digest`)
    state.py        the state line and buttons, and the parent redrawn with them
                    (`state_line`, `render_state_update`)

and what they share:

    limits.py       Slack's Block Kit limits (each with its doc), our budget per part, block ids
    fit.py          the last guard: a message within the limits, the notification text
    parts.py        `Message` and the small pieces: text objects, sections, dates, safe text
    words.py        the fixed words of the messages
    mrkdwn.py       escaping, code blocks and truncation of untrusted job text

Every block is built within Slack's limits and the whole message within a total text budget,
cutting visibly ("…[truncated]", "…and 12 more") instead of letting Slack refuse the post. Every
string that came from a job is redacted and escaped (`mrkdwn.untrusted`); every mrkdwn text object
is `verbatim` so Slack does not turn words into links or mentions by itself.

The state line and the buttons have their own `block_id`s ("jt:state:<version>",
"jt:actions:<version>") so that a click re-renders only them (`render_state_update`) in the
message as it was first posted. The version in the id changes on every update, as Slack asks
of blocks that are replaced
(https://docs.slack.dev/reference/block-kit/blocks/header-block, `block_id`).

Delivery and clicks:

    notifier.py     what the product needs from Slack (`Notifier`), the parent-message redraw
    deliver.py      SlackNotifier: chat.postMessage / chat.update / chat.postEphemeral, retries,
                    failures classified as permanent or transient; `find_post` (history)
    metadata.py     the message metadata every post carries (`PostTag`), and finding it again
    actions.py      action ids, button values, request signature, block_actions parsing
    builder_url.py  Message -> Block Kit Builder link, terminal picture

Console links and number formatting are shared with the report: `jobtriage.console`,
`jobtriage.formatting`. Never name a module or package `slack`: slack_sdk installs one and ours
would shadow it.
"""
