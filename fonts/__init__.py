"""The font catalog (`catalog.toml`), installed with Proofmark as `proofmark_renderer.fonts`.

The font files themselves come from npm (`node_modules/`, see catalog.toml).
"""
