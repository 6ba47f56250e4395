"""Notifications the owner chooses, through channels that need no cloud (see README.md)."""
from hems.notify.channels import ChannelError, Email, Mqtt, Ntfy, Webhook
from hems.notify.message import Kind, Notification
from hems.notify.notifier import Notifier
from hems.notify.rules import Alert, Snapshot, Watcher
from hems.notify.settings import NotifySettings, NotifySettingsError, parse

__all__ = ["Alert", "ChannelError", "Email", "Kind", "Mqtt", "Notification", "Notifier", "NotifySettings",
           "NotifySettingsError", "Ntfy", "Snapshot", "Watcher", "Webhook", "parse"]
