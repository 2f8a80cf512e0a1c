"""The Streamlit web app (`trainer app`): 首页.py plus numbered pages in pages/.

Pages stay thin: `views` and `highlight` build what they show (pure functions),
`state` keeps per-browser-session data, `services` does the work (recognise, score,
save, export) and `ui` holds shared Streamlit building blocks.
"""
