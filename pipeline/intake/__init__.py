"""Intake: how report bytes arrive. Files and folders, mbox and Maildir (sources), the drop
folders (inbox), the HTTPS receiver and the IMAP fetcher (which land durably in spools before
they acknowledge), and the DKIM verdict of mailed reports. Intake checks reports at the door
with the parse stage, and never writes the warehouse."""
