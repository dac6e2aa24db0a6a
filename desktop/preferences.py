"""Preferences: which model colourises, and on which device."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from polychrome.core.models import DEFAULT_MODEL, available_models

DEVICE_LABELS = [
    ("auto", "Automatic (graphics card if available)"),
    ("cpu", "CPU"),
    ("cuda", "NVIDIA GPU (CUDA)"),
    ("mps", "Apple GPU (Metal)"),
]


def model_choices() -> list[tuple[str, str]]:
    """(name, label) for every model with weights on this machine; the shipped default first."""
    try:
        models = available_models()
    except Exception:  # noqa: BLE001 - a broken model card must not make Preferences unusable
        models = {}
    names = list(models)
    if DEFAULT_MODEL in names:
        names.remove(DEFAULT_MODEL)
    out = [
        (
            DEFAULT_MODEL,
            f"{DEFAULT_MODEL} (shipped)" + ("" if DEFAULT_MODEL in models else " — not installed"),
        )
    ]
    for n in names:
        card = models[n].card
        desc = card.get("description") or card.get("title") or ""
        out.append((n, f"{n} — {desc}" if desc else n))
    return out


class PreferencesDialog(QDialog):
    def __init__(self, model: str, device: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.model = QComboBox()
        for name, label in model_choices():
            self.model.addItem(label, name)
        if self.model.findData(model) < 0:
            self.model.addItem(f"{model} — not installed", model)
        self.model.setCurrentIndex(self.model.findData(model))
        self.device = QComboBox()
        for key, label in DEVICE_LABELS:
            self.device.addItem(label, key)
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        note = QLabel(
            "Official models downloaded with “polychrome weights download NAME” appear here. "
            "Changing the model or device runs the network again for the open photo."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Device", self.device)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(480, self.sizeHint().height())

    def values(self) -> tuple[str, str]:
        return str(self.model.currentData()), str(self.device.currentData())
