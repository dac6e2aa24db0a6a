"""Desktop editor (PySide6): views, widgets, actions and background workers.

All numerics live in ``polychrome.core``; the entry point is :func:`polychrome.desktop.app.run_app`.
"""
