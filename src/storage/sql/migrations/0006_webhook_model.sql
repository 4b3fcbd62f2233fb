-- A webhook may be scoped to one registered model (a Tamga extension of MLflow's webhooks): it then fires only
-- for that model's events, and MANAGE on the model is enough to own it. '' = a global hook (admins only).
ALTER TABLE webhooks ADD COLUMN model_name TEXT NOT NULL DEFAULT '';
CREATE INDEX webhooks_by_model ON webhooks(model_name);
