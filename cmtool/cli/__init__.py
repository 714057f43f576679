"""Typer commands: parse, call one service, print. No logic lives here."""
