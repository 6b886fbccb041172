"""The form editor, generated only from the field descriptors (no field id appears here)."""

from ui.form.component_form import ComponentForm, default_text
from ui.form.editors import FieldEditor, create_editor
from ui.form.password import PasswordField
from ui.form.touch_widgets import ToggleSwitch

__all__ = [
    "ComponentForm",
    "FieldEditor",
    "PasswordField",
    "ToggleSwitch",
    "create_editor",
    "default_text",
]
