"""The demo study, built above the apps through their own services: generation (phantom), import and
split (cases), reading (annotations), and the model pipeline (inference). It lives in the project package
because it reaches every app, which no app may do (see the layers in README's architecture picture)."""
