"""The two Airflow names whose home moved between Airflow 3.0 and 3.1; everything else comes from airflow.sdk."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type-checked against their newest home; at run time each falls back to its Airflow 3.0 one
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret
else:
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 3.0: the Task SDK has no BaseHook yet
        from airflow.hooks.base import BaseHook

    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret

__all__ = ["BaseHook", "mask_secret"]
