"""Slack: the Block Kit rendering of a diagnosis, its delivery, and the buttons' clicks.

    mrkdwn.py       escaping, code blocks and truncation of untrusted job text
    blocks.py       Report + Incident -> Message (pure; English and Korean)
    builder_url.py  Message -> Block Kit Builder link, terminal picture
    deliver.py      SlackNotifier: chat.postMessage / chat.update / chat.postEphemeral, retries,
                    failures classified as permanent or transient
    actions.py      Action ids, button values, request signature, block_actions parsing

Never name a module or package `slack`: slack_sdk installs one and ours would shadow it.
"""
