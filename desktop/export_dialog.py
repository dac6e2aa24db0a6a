"""The export dialog: which results, format, quality, folder, and what to do when a file exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from polychrome.core.formats import EXPORT_FORMATS

POLICIES = [("unique", "Add a number to the new file's name"), ("ask", "Ask before replacing")]


@dataclass
class ExportOptions:
    indices: list[int]
    folder: Path
    fmt: str
    quality: int
    policy: str  # "unique" or "ask"


class ExportDialog(QDialog):
    """Collects :class:`ExportOptions`. Starred results are the default selection when there are any."""

    def __init__(
        self,
        current: int,
        starred: list[int],
        folder: str,
        fmt: str,
        quality: int,
        parent: QWidget | None = None,
        only_current: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Results")
        self.current, self.starred = current, sorted(starred)
        self.only_current = QRadioButton(
            f"The result on show ({'best guess' if current == 0 else f'Result {current + 1}'})"
        )
        self.all_starred = QRadioButton(f"All starred results ({len(self.starred)})")
        self.all_starred.setEnabled(bool(self.starred))
        (self.all_starred if self.starred and not only_current else self.only_current).setChecked(True)
        which = QButtonGroup(self)
        which.addButton(self.only_current)
        which.addButton(self.all_starred)

        self.format = QComboBox()
        for f in EXPORT_FORMATS:
            self.format.addItem(f.label, f.key)
        self.format.setCurrentIndex(max(0, self.format.findData(fmt)))
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(quality)
        self.quality.setToolTip("JPEG quality: 90 and above is visually lossless for most photos")
        self.format.currentIndexChanged.connect(self._format_changed)

        self.folder = QLineEdit(folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)

        self.policy = QComboBox()
        for key, label in POLICIES:
            self.policy.addItem(label, key)
        note = QLabel(
            "Results are written at the photo's full resolution, with its EXIF metadata and colour "
            "profile; each file records that Polychrome colourised it (model, seed, hints) in its "
            "metadata. The original photo is never overwritten."
        )
        note.setWordWrap(True)
        note.setEnabled(False)

        form = QFormLayout()
        form.addRow("Export", self.only_current)
        form.addRow("", self.all_starred)
        form.addRow("Format", self.format)
        form.addRow("JPEG quality", self.quality)
        form.addRow("Folder", folder_row)
        form.addRow("If a file exists", self.policy)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._format_changed()
        self.resize(520, self.sizeHint().height())

    def _format_changed(self) -> None:
        self.quality.setEnabled(self.format.currentData() == "jpg")

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def options(self) -> ExportOptions:
        indices = self.starred if self.all_starred.isChecked() else [self.current]
        return ExportOptions(
            indices=list(indices),
            folder=Path(self.folder.text()).expanduser(),
            fmt=str(self.format.currentData()),
            quality=int(self.quality.value()),
            policy=str(self.policy.currentData()),
        )
