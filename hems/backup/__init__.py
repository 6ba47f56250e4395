"""Backup and restore of one hems: one file, secrets sealed with the owner's passphrase."""
