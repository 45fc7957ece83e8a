#include "firewall/nftables_backend.hpp"

#include <malloc.h>
#include <nftables/libnftables.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>

namespace zeq {

namespace {

nft_ctx* new_context() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return nullptr;
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return ctx;
}

}  // namespace

// The process's libnftables context, made when a command needs it and freed
// by release_idle_context().
struct NftContext {
  NftContext() = default;
  ~NftContext() {
    if (ctx) nft_ctx_free(ctx);
  }
  NftContext(const NftContext&) = delete;
  NftContext& operator=(const NftContext&) = delete;
  std::mutex mutex;  // one command (and the reading of its output) at a time
  nft_ctx* ctx = nullptr;
  std::chrono::steady_clock::time_point last_command{};
};

namespace {
std::mutex shared_context_mutex;
std::weak_ptr<NftContext> shared_context;  // freed with the last backend
std::atomic<bool> return_memory_after_commands{false};
}  // namespace

Result<std::unique_ptr<NftablesBackend>> NftablesBackend::open() {
  std::lock_guard lock(shared_context_mutex);
  std::shared_ptr<NftContext> context = shared_context.lock();
  if (!context) {
    context = std::make_shared<NftContext>();
    context->ctx = new_context();
    if (!context->ctx) return Status::error("nftables: cannot create a context (out of memory)");
    shared_context = context;
  }
  return std::unique_ptr<NftablesBackend>(new NftablesBackend(std::move(context)));
}

bool NftablesBackend::release_idle_context(std::chrono::milliseconds idle) {
  std::shared_ptr<NftContext> context;
  {
    std::lock_guard lock(shared_context_mutex);
    context = shared_context.lock();
  }
  if (!context) return false;
  std::lock_guard lock(context->mutex);
  if (!context->ctx || std::chrono::steady_clock::now() - context->last_command < idle) return false;
  nft_ctx_free(context->ctx);
  context->ctx = nullptr;
#ifdef __GLIBC__
  if (return_memory_after_commands.load(std::memory_order_relaxed)) malloc_trim(0);
#endif
  return true;
}

NftablesBackend::~NftablesBackend() = default;

void NftablesBackend::return_memory_after_each_command(bool on) { return_memory_after_commands.store(on); }

Status NftablesBackend::run(const std::string& commands, std::string* out, const std::string& tables) {
  std::unique_lock lock(ctx_->mutex);
  if (!ctx_->ctx) ctx_->ctx = new_context();
  if (!ctx_->ctx)
    return Status::error("nftables (" + (tables.empty() ? "table inet " + std::string(FIREWALL_TABLE) : tables) +
                         "): cannot create a context (out of memory)");
  int rc = nft_run_cmd_from_buffer(ctx_->ctx, commands.c_str());
  std::string output = nft_ctx_get_output_buffer(ctx_->ctx);
  std::string error = nft_ctx_get_error_buffer(ctx_->ctx);
  ctx_->last_command = std::chrono::steady_clock::now();
  lock.unlock();
#ifdef __GLIBC__
  if (return_memory_after_commands.load(std::memory_order_relaxed)) malloc_trim(0);
#endif
  if (rc != 0) {
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    size_t nl = error.find('\n');
    std::string first = error.substr(0, nl);
    bool perm = error.find("Operation not permitted") != std::string::npos;
    return Status::error("nftables (" + (tables.empty() ? "table inet " + std::string(FIREWALL_TABLE) : tables) + "): " +
                         (first.empty() ? "command failed" : first) +
                         (perm ? "; nftables needs CAP_NET_ADMIN (run as root or as the zeqvpnd service)" : ""));
  }
  if (out) *out = std::move(output);
  return Status::ok();
}

Status NftablesBackend::apply(const FirewallPolicy& policy) { return run(render_nftables(policy)); }

Result<bool> NftablesBackend::installed() {
  std::string out;
  if (Status s = run("list tables inet", &out); !s) return s;
  return out.find("table inet " + std::string(FIREWALL_TABLE) + "\n") != std::string::npos ||
         out.find("table inet " + std::string(FIREWALL_TABLE) + " ") != std::string::npos;
}

std::map<std::string, uint64_t> NftablesBackend::blocked_counts() { return counters_of(FIREWALL_TABLE); }

Status NftablesBackend::apply_exit(const ExitPolicy& policy) {
  return run(render_exit_nftables(policy), nullptr, "table inet " + std::string(EXIT_TABLE));
}

Status NftablesBackend::apply_mss_clamp(const MssClampPolicy& policy) {
  return run(render_mss_clamp_nftables(policy), nullptr,
             "table inet " + std::string(MSS_CLAMP_TABLE));
}

std::map<std::string, uint64_t> NftablesBackend::exit_counts() { return counters_of(EXIT_TABLE); }

std::map<std::string, uint64_t> NftablesBackend::counters_of(const char* table) {
  std::map<std::string, uint64_t> counts;
  std::string out;
  if (!run("list counters table inet " + std::string(table), &out, "table inet " + std::string(table))) return counts;
  static const std::regex counter(R"(counter (\w+) \{\s*packets (\d+) bytes \d+)");
  for (std::sregex_iterator it(out.begin(), out.end(), counter), end; it != end; ++it)
    counts[(*it)[1].str()] = std::stoull((*it)[2].str());
  return counts;
}

}  // namespace zeq
