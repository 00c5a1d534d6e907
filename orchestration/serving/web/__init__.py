"""`dwell serve`: one web application (FastAPI on uvicorn) serving a JSON API and a web app over the serving copy
(docs/serving.md "The web app and the API"). It reads only the serving copy, read-only, and follows each new
publication without a restart; organization tokens see only their organization's rows."""
