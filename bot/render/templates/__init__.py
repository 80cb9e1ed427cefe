"""Default Jinja2 templates for rendering briefs."""
