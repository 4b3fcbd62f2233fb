#pragma once
// Serialisation of registry entities in MLflow's JSON mapping (versions as decimal strings, unset
// optionals omitted), plus Tamga's own registry objects (events, webhooks, deliveries, logged models).
#include "core/json_writer.h"
#include "storage/registry_entities.h"

namespace tamga {

void WriteModelVersion(JsonWriter& w, const ModelVersion& v);
void WriteRegisteredModel(JsonWriter& w, const RegisteredModel& m);
void WriteRegistryEvent(JsonWriter& w, const RegistryEvent& e);  // data embedded as a JSON object
void WriteWebhook(JsonWriter& w, const Webhook& h);              // never includes the secret
void WriteWebhookDelivery(JsonWriter& w, const WebhookDelivery& d);
void WriteLoggedModel(JsonWriter& w, const LoggedModel& m);
const char* ModelVersionStatusName(ModelVersionStatus s);
const char* LoggedModelStatusName(LoggedModelStatus s);

}  // namespace tamga
