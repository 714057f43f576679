"""The audit trail's checks: pure functions over parsed commits, case data and rules.

Nothing here runs git or reads files; ``cmtool.services.audit`` feeds these
checks from one ``git log`` pass and one ``cat-file --batch`` process.
"""
