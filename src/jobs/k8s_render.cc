#include "jobs/k8s_render.h"

#include <cctype>

namespace tamga {
namespace {

// A YAML double-quoted scalar.
std::string Q(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A DNS-1123 label from the job id.
std::string Label(const std::string& s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  return out.substr(0, 63);
}

}  // namespace

std::string RenderK8sJob(const Job& job, const K8sJobOptions& o) {
  const ResourceRequest& r = job.spec.resources;
  std::string name = Label(job.id);
  std::string y;
  y += "apiVersion: batch/v1\nkind: Job\nmetadata:\n";
  y += "  name: " + name + "\n  namespace: " + Q(o.ns) + "\n";
  y += "  labels:\n    app.kubernetes.io/managed-by: tamga\n    tamga.io/job-id: " + name +
       "\n    tamga.io/queue: " + Q(job.spec.queue) + "\n";
  y += "spec:\n  backoffLimit: " + std::to_string(job.spec.max_retries) + "\n";
  if (job.spec.timeout_s > 0) y += "  activeDeadlineSeconds: " + std::to_string(job.spec.timeout_s) + "\n";
  y += "  template:\n    metadata:\n      labels:\n        tamga.io/job-id: " + name + "\n";
  y += "    spec:\n      restartPolicy: Never\n";
  if (r.gpus > 0) {
    if (!o.gpu_product.empty())
      y += "      nodeSelector:\n        nvidia.com/gpu.product: " + Q(o.gpu_product) + "\n";
    if (r.gpu_memory_bytes > 0) {
      // GFD publishes nvidia.com/gpu.memory in MB: ask for nodes whose GPUs have at least the request.
      int64_t mb = (r.gpu_memory_bytes + 999999) / 1000000;
      y += "      affinity:\n        nodeAffinity:\n          "
           "requiredDuringSchedulingIgnoredDuringExecution:\n";
      y += "            nodeSelectorTerms:\n            - matchExpressions:\n";
      y += "              - key: nvidia.com/gpu.memory\n                operator: Gt\n                "
           "values: [" +
           Q(std::to_string(mb - 1)) + "]\n";
    }
    y += "      tolerations:\n      - key: nvidia.com/gpu\n        operator: Exists\n        effect: "
         "NoSchedule\n";
  }
  y += "      containers:\n      - name: job\n        image: " + Q(o.image) + "\n";
  y += "        command:\n";
  for (const auto& a : job.spec.command) y += "        - " + Q(a) + "\n";
  if (!job.spec.working_dir.empty()) y += "        workingDir: " + Q(job.spec.working_dir) + "\n";
  y += "        env:\n";
  for (const auto& [k, v] : job.spec.env)
    y += "        - name: " + Q(k) + "\n          value: " + Q(v) + "\n";
  if (!o.tracking_uri.empty())
    y += "        - name: MLFLOW_TRACKING_URI\n          value: " + Q(o.tracking_uri) + "\n";
  if (!job.run_id.empty()) y += "        - name: MLFLOW_RUN_ID\n          value: " + Q(job.run_id) + "\n";
  y += "        - name: TAMGA_JOB_ID\n          value: " + Q(job.id) + "\n";
  y += "        resources:\n          requests:\n            cpu: " + Q(std::to_string(std::max(1, r.cpus))) +
       "\n";
  if (r.memory_bytes > 0) y += "            memory: " + Q(std::to_string(r.memory_bytes)) + "\n";
  y += "          limits:\n            cpu: " + Q(std::to_string(std::max(1, r.cpus))) + "\n";
  if (r.memory_bytes > 0) y += "            memory: " + Q(std::to_string(r.memory_bytes)) + "\n";
  if (r.gpus > 0) y += "            nvidia.com/gpu: " + std::to_string(r.gpus) + "\n";
  return y;
}

}  // namespace tamga
