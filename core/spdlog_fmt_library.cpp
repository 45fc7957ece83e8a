// spdlog and fmt, compiled into the project's binaries from the headers
// Debian ships (libspdlog-dev, libfmt-dev) instead of linked as
// libspdlog.so and libfmt.so.
//
// Why: those two shared objects are C++ and pull libstdc++.so in with them,
// so zeqvpnd could not carry its own copy of the C++ runtime while they were
// loaded. Built in, the linker keeps only the parts the daemon calls
// (--gc-sections) and zeqvpnd loads five shared objects fewer; its peak RSS
// fell from 18.3 to 16.1 MiB (bench/tunnel_bench.sh, issue 14).
//
// The rest of the code sees both libraries exactly as their compiled
// (non-header-only) forms declare them: core/CMakeLists.txt defines
// SPDLOG_COMPILED_LIB and SPDLOG_FMT_EXTERNAL for every user of zeqvpn_core.
// With SPDLOG_COMPILED_LIB, including an -inl.h file defines its functions
// out of line, here and only here. Templates that the headers declare but do
// not instantiate are instantiated below for the types the project uses; a
// new sink type (a file sink, say) needs its -inl.h and an instantiation
// here, and the link says so if it is missing.

#ifndef SPDLOG_COMPILED_LIB
#error "core/spdlog_fmt_library.cpp needs SPDLOG_COMPILED_LIB (set by core/CMakeLists.txt)"
#endif

#include <fmt/format-inl.h>

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_color_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <locale>
#include <mutex>
#include <string>

// fmt: what format.h declares `extern template` when FMT_HEADER_ONLY is not
// set, and the out-of-line members the library's own build instantiates.
FMT_BEGIN_NAMESPACE
namespace detail {
template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> char;
template auto decimal_point_impl(locale_ref) -> wchar_t;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
}  // namespace detail
FMT_END_NAMESPACE

// spdlog: the logger and the sinks the project creates (core/log.cpp: the
// stderr colour sink; spdlog's registry: the stdout one it starts with).
template spdlog::logger::logger(std::string name, sinks_init_list::iterator begin,
                                sinks_init_list::iterator end);
template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_sink<spdlog::details::console_nullmutex>;
template class spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_nullmutex>;
template class spdlog::sinks::ansicolor_stderr_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stderr_sink<spdlog::details::console_nullmutex>;
