"""The staff console at ``/console``: sign in (``auth``), the queue and conversations (``queue``), the dashboard
of what the assistant did (``dashboard``, charts in ``charts``) and the owner's settings page (``settings_page``).
Templates are ``adapters/static/console_*.html``."""

from fastapi import APIRouter

from adapters.console import auth, dashboard, patient_check, queue, settings_page

router = APIRouter()
router.include_router(auth.router)
router.include_router(queue.router)
router.include_router(settings_page.router)
router.include_router(dashboard.router)
router.include_router(patient_check.router)

__all__ = ["router"]
