"""What the Slack app asks for: scopes, events, the slash command and the shortcut.

The listeners register themselves from these constants and ``deploy/slack-manifest.yml``
is checked against them by a test, so the manifest can't drift from the code.
"""

from __future__ import annotations

COMMAND = "/brief"
SHORTCUT_CALLBACK_ID = "brief_this_message"

#: Bolt event types we register listeners for -> the manifest's bot event subscriptions.
EVENT_SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # Link pastes in public and private channels the bot was invited to, and replies in a
    # brief's thread (questions, with `/brief settings questions any`).
    "message": ("message.channels", "message.groups"),
    # @Briefbot <link>, and @Briefbot <question> in a brief's thread.
    "app_mention": ("app_mention",),
    "app_home_opened": ("app_home_opened",),
}

#: Web API methods the code calls -> the bot scope each one needs (None: no scope).
API_METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    # Reading a thread's parent (an @mention in a thread) and finding our own posts
    # after a restart; the groups scope covers private channels.
    "conversations.replies": "channels:history",
    "conversations.history": "channels:history",
    "views.publish": None,  # the App Home tab needs no scope
    # Digests: a brief's thread link, and the user's time zone for `/brief digest daily 08:00`.
    "chat.getPermalink": None,
    "users.info": "users:read",
    # The Home tab lists a brief only where the viewer may see it: public channels, and
    # private ones they are a member of.
    "conversations.info": "channels:read",
    "conversations.members": "groups:read",
}

#: Scopes that events, commands and shortcuts need to be delivered at all.
DELIVERY_SCOPES: dict[str, str] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_mention": "app_mentions:read",
    "slash command": "commands",
    "message shortcut": "commands",
}


def _required() -> tuple[str, ...]:
    needed = {s for s in API_METHOD_SCOPES.values() if s}
    needed |= set(DELIVERY_SCOPES.values())
    return tuple(sorted(needed))


#: Exactly the OAuth bot scopes the code needs, sorted.
REQUIRED_SCOPES: tuple[str, ...] = _required()
