"""One module per dashboard view. Each has a `router` (APIRouter, its
pages under /ui/..., `include_in_schema=False`) and registers its home-page
entry with `services.query.ui.registry.register(View(...))` at import;
services/query/ui/__init__.py `install_ui` finds and includes them all.
"""
