-- 0003: find the model versions registered from a logged model (LoggedModelInfo.registrations) by index.
CREATE INDEX model_versions_by_logged_model ON model_versions(model_id) WHERE model_id IS NOT NULL;
