"""The product page (`levtoken serve`): a local web app over a deployment, reading the chain live.

- `levtoken.web.reads`: what the page shows, read from contract views and events, in a holder's units;
- `levtoken.web.server`: the Starlette app (the page, its libraries from node_modules, ABIs, JSON routes);
- `static/`: the page (one HTML file, one JS module, one style sheet).
"""
