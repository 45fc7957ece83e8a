#include "cli/completion.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace zeq::ctl {

namespace {

// One command of the tree ("" for zeqvpnctl itself, "ca sign", ...): what
// may follow it on the command line.
struct OptionSpec {
  std::vector<std::string> names;  // -s, --socket
  std::string help;
  bool takes_value = false;
  std::vector<std::string> choices;
};
struct PositionalSpec {
  std::string name;  // PEER, FILE, ACTION
  std::vector<std::string> choices;
};
struct CommandSpec {
  std::string path;
  std::vector<std::pair<std::string, std::string>> subcommands;  // name, help
  std::vector<OptionSpec> options;
  std::vector<PositionalSpec> positionals;
};

// The values a CLI::IsMember check admits: its description is "{a,b,c}".
std::vector<std::string> choices_of(CLI::Option* opt) {
  for (int i = 0;; ++i) {
    CLI::Validator* v = nullptr;
    try {
      v = opt->get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return {};
    }
    const std::string d = v->get_description();
    if (d.size() < 3 || d.front() != '{' || d.back() != '}') continue;
    std::vector<std::string> values;
    size_t start = 1;
    for (size_t comma; (comma = d.find(',', start)) != std::string::npos; start = comma + 1)
      values.push_back(d.substr(start, comma - start));
    values.push_back(d.substr(start, d.size() - 1 - start));
    return values;
  }
}

// Hidden subcommands and options (CLI11's empty group) are left out, and so
// are option groups (unnamed apps).
void collect(CLI::App& app, const std::string& path, std::vector<CommandSpec>& out) {
  CommandSpec spec;
  spec.path = path;
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;
    if (opt->nonpositional()) {
      OptionSpec o;
      for (const auto& s : opt->get_snames()) o.names.push_back("-" + s);
      for (const auto& l : opt->get_lnames()) o.names.push_back("--" + l);
      o.help = opt->get_description();
      o.takes_value = opt->get_expected_max() > 0;  // flags expect none
      o.choices = choices_of(opt);
      spec.options.push_back(std::move(o));
    } else if (opt->get_positional()) {
      spec.positionals.push_back({opt->get_name(true), choices_of(opt)});
    }
  }
  auto subs = app.get_subcommands([](CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); });
  for (CLI::App* s : subs) spec.subcommands.emplace_back(s->get_name(), s->get_description());
  out.push_back(std::move(spec));
  for (CLI::App* s : subs) collect(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), out);
}

std::vector<CommandSpec> commands_of(CLI::App& app) {
  std::vector<CommandSpec> specs;
  collect(app, "", specs);
  return specs;
}

// A single-quoted shell word (bash and zsh alike).
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// How the scripts complete a positional: @peer (the daemon's peer names),
// @file, =a,b,c (fixed values) or - (free text: nothing offered).
std::string positional_kind(const PositionalSpec& p) {
  if (!p.choices.empty()) {
    std::string out = "=";
    for (const auto& c : p.choices) out += (out.size() > 1 ? "," : "") + c;
    return out;
  }
  if (p.name == "PEER") return "@peer";
  if (p.name == "FILE") return "@file";
  return "-";
}

std::vector<std::string> positional_kinds(const CommandSpec& c) {
  std::vector<std::string> kinds;
  for (const auto& p : c.positionals) kinds.push_back(positional_kind(p));
  return kinds;
}

// The option values with a fixed set, as the cases of a `case "PATH|OPTION"`;
// value() writes the shell's side of one.
std::string values_cases(const std::vector<CommandSpec>& specs, const char* open,
                         std::string (*value)(const std::vector<std::string>&)) {
  std::string out;
  for (const auto& c : specs)
    for (const auto& o : c.options) {
      if (!o.takes_value || o.choices.empty()) continue;
      std::string patterns;
      for (const auto& n : o.names) patterns += (patterns.empty() ? "" : "|") + sq(c.path + "|" + n);
      out += std::string("    ") + open + patterns + ") " + value(o.choices) + " ;;\n";
    }
  return out;
}

const char BASH_HEAD[] = R"(# bash completion for zeqvpnctl                            -*- shell-script -*-
# Written from zeqvpnctl's own command definitions by `zeqvpnctl completion
# bash` when zeqvpnctl is built: do not edit, it is made again. Peer names
# come from the running zeqvpnd (`zeqvpnctl completion peers`), and none,
# silently, when it is not reachable.

# _zeqvpnctl_spec PATH: the subcommands, options (without and with a value)
# and positionals of the command PATH ('' is zeqvpnctl itself).
_zeqvpnctl_spec() {
  case $1 in
)";

const char BASH_BODY[] = R"RAW(
_zeqvpnctl_in() {
  local w=$1 x
  shift
  for x; do [[ $x == "$w" ]] && return 0; done
  return 1
}

_zeqvpnctl_files() {
  compopt -o filenames 2>/dev/null
  local IFS=$'\n'
  COMPREPLY+=($(compgen -f -- "$1"))
}

# The daemon's peer names, asked with the connection options given so far;
# nothing (and no message) when zeqvpnd cannot be reached.
_zeqvpnctl_peers() {
  local ctl=${words[0]}
  [[ $ctl == */* && -x $ctl ]] || ctl=zeqvpnctl
  type -P "$ctl" >/dev/null 2>&1 || return 0
  timeout 2 "$ctl" "${conn[@]}" completion peers 2>/dev/null
}

_zeqvpnctl() {
  local cur cword i w path='' npos=0 expect='' values kind k n
  local -a words conn=()
  local _zqc_subs _zqc_flags _zqc_vopts _zqc_pos
  # With bash-completion, `--opt=value` stays one word; without it, bash
  # splits it at '=' (COMP_WORDBREAKS) and the '=' is a word of its own.
  if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
    _get_comp_words_by_ref -n =: cur words cword
  else
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
  fi
  COMPREPLY=()
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    [[ $w == = && -n $expect ]] && continue
    if [[ -n $expect ]]; then
      [[ -z $path ]] && _zeqvpnctl_in "$expect" $_zeqvpnctl_conn && conn+=("$expect" "$w")
      expect=''
      continue
    fi
    _zeqvpnctl_spec "$path"
    case $w in
      --*=*) [[ -z $path ]] && _zeqvpnctl_in "${w%%=*}" $_zeqvpnctl_conn && conn+=("$w") ;;
      -*) _zeqvpnctl_in "$w" $_zqc_vopts && expect=$w ;;
      *)
        if _zeqvpnctl_in "$w" $_zqc_subs; then
          path=${path:+$path }$w
          npos=0
        else
          npos=$((npos + 1))
        fi
        ;;
    esac
  done
  _zeqvpnctl_spec "$path"
  [[ $cur == = && -n $expect ]] && cur=''
  if [[ -n $expect ]]; then
    values=$(_zeqvpnctl_values "$path" "$expect")
    if [[ -n $values ]]; then COMPREPLY=($(compgen -W "$values" -- "$cur")); else _zeqvpnctl_files "$cur"; fi
    return 0
  fi
  if [[ $cur == --*=* ]]; then
    values=$(_zeqvpnctl_values "$path" "${cur%%=*}")
    if [[ -n $values ]]; then COMPREPLY=($(compgen -W "$values" -- "${cur#*=}")); else _zeqvpnctl_files "${cur#*=}"; fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_zqc_flags $_zqc_vopts" -- "$cur"))
    return 0
  fi
  kind=''
  n=0
  for k in $_zqc_pos; do
    [[ $n -eq $npos ]] && kind=$k && break
    n=$((n + 1))
  done
  values=$_zqc_subs
  case $kind in
    =*) k=${kind#=}; values+=" ${k//,/ }" ;;
    @peer) values+=" $(_zeqvpnctl_peers)" ;;
    @file) _zeqvpnctl_files "$cur" ;;
  esac
  COMPREPLY+=($(compgen -W "$values" -- "$cur"))
  return 0
}
complete -F _zeqvpnctl zeqvpnctl
)RAW";

const char ZSH_HEAD[] = R"(#compdef zeqvpnctl
# zsh completion for zeqvpnctl. Written from zeqvpnctl's own command
# definitions by `zeqvpnctl completion zsh` when zeqvpnctl is built: do not
# edit, it is made again. Peer names come from the running zeqvpnd
# (`zeqvpnctl completion peers`), and none, silently, when it is not
# reachable.

# _zeqvpnctl_spec PATH: the subcommands (name:help), their names, the
# options (name:help), those that take a value, and the positionals of the
# command PATH ('' is zeqvpnctl itself).
_zeqvpnctl_spec() {
  case $1 in
)";

const char ZSH_BODY[] = R"RAW(
_zeqvpnctl_peers() {
  local ctl=${words[1]}
  [[ $ctl == */* && -x $ctl ]] || ctl=zeqvpnctl
  (( $+commands[$ctl] )) || [[ -x $ctl ]] || return 0
  timeout 2 $ctl $conn completion peers 2>/dev/null
}

_zeqvpnctl() {
  local cmdpath='' expect='' w cur=${words[CURRENT]} kind
  local -i i npos=0 ret=1
  local -a subs subnames opts vopts pos conn values reply
  for (( i = 2; i < CURRENT; i++ )); do
    w=${words[i]}
    if [[ -n $expect ]]; then
      [[ -z $cmdpath ]] && (( ${_zeqvpnctl_conn[(Ie)$expect]} )) && conn+=($expect $w)
      expect=''
      continue
    fi
    _zeqvpnctl_spec "$cmdpath"
    case $w in
      (--*=*) [[ -z $cmdpath ]] && (( ${_zeqvpnctl_conn[(Ie)${w%%=*}]} )) && conn+=($w) ;;
      (-*) (( ${vopts[(Ie)$w]} )) && expect=$w ;;
      (*)
        if (( ${subnames[(Ie)$w]} )); then
          cmdpath=${cmdpath:+$cmdpath }$w
          npos=0
        else
          npos=$(( npos + 1 ))
        fi
        ;;
    esac
  done
  _zeqvpnctl_spec "$cmdpath"
  if [[ -n $expect ]]; then
    _zeqvpnctl_values "$cmdpath" "$expect"
    if (( $#reply )); then compadd -a reply; else _files; fi
    return
  fi
  if [[ $cur == --*=* ]]; then
    _zeqvpnctl_values "$cmdpath" "${cur%%=*}"
    compset -P '*='
    if (( $#reply )); then compadd -a reply; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    _describe -t options 'option' opts
    return
  fi
  kind=${pos[npos + 1]}
  (( $#subs )) && _describe -t commands 'zeqvpnctl command' subs && ret=0
  case $kind in
    (\=*) values=(${(s:,:)${kind#=}}); compadd -a values && ret=0 ;;
    (@peer) values=(${(f)"$(_zeqvpnctl_peers)"}); (( $#values )) && compadd -a values && ret=0 ;;
    (@file) _files && ret=0 ;;
  esac
  return ret
}

_zeqvpnctl "$@"
)RAW";

std::string bash_values(const std::vector<std::string>& choices) { return "echo " + sq(joined(choices)); }

std::string zsh_values(const std::vector<std::string>& choices) {
  std::string words;
  for (const auto& c : choices) words += (words.empty() ? "" : " ") + sq(c);
  return "reply=(" + words + ")";
}

// The value options of zeqvpnctl itself (the control socket, the config):
// given before a subcommand, they go along when the scripts ask for peers.
std::vector<std::string> connection_options(const std::vector<CommandSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& o : specs.front().options)
    if (o.takes_value)
      for (const auto& n : o.names) names.push_back(n);
  return names;
}

}  // namespace

std::string bash_completion(CLI::App& app) {
  const auto specs = commands_of(app);
  std::string out = BASH_HEAD;
  for (const auto& c : specs) {
    std::vector<std::string> subs, flags, vopts;
    for (const auto& [name, help] : c.subcommands) subs.push_back(name);
    for (const auto& o : c.options)
      for (const auto& n : o.names) (o.takes_value ? vopts : flags).push_back(n);
    out += "    " + sq(c.path) + ")\n      _zqc_subs=" + sq(joined(subs)) + "\n      _zqc_flags=" + sq(joined(flags)) +
           "\n      _zqc_vopts=" + sq(joined(vopts)) + "\n      _zqc_pos=" + sq(joined(positional_kinds(c))) +
           "\n      ;;\n";
  }
  out += "    *) _zqc_subs='' _zqc_flags='' _zqc_vopts='' _zqc_pos='' ;;\n  esac\n}\n\n";
  out += "# zeqvpnctl's own value options (control socket, config): given before the\n"
         "# subcommand, they go along when the script asks for peer names.\n"
         "_zeqvpnctl_conn=" + sq(joined(connection_options(specs))) + "\n\n";
  out += "# _zeqvpnctl_values PATH OPTION: the values OPTION of PATH takes, if they\n"
         "# are a fixed set.\n_zeqvpnctl_values() {\n  case \"$1|$2\" in\n";
  out += values_cases(specs, "", bash_values);
  out += "  esac\n}\n";
  out += BASH_BODY;
  return out;
}

std::string zsh_completion(CLI::App& app) {
  const auto specs = commands_of(app);
  std::string out = ZSH_HEAD;
  for (const auto& c : specs) {
    std::string subs, subnames, opts, vopts, pos;
    for (const auto& [name, help] : c.subcommands) {
      subs += (subs.empty() ? "" : " ") + sq(name + ":" + help);
      subnames += (subnames.empty() ? "" : " ") + sq(name);
    }
    for (const auto& o : c.options)
      for (const auto& n : o.names) {
        opts += (opts.empty() ? "" : " ") + sq(n + ":" + o.help);
        if (o.takes_value) vopts += (vopts.empty() ? "" : " ") + sq(n);
      }
    for (const auto& k : positional_kinds(c)) pos += (pos.empty() ? "" : " ") + sq(k);
    out += "    (" + sq(c.path) + ")\n      subs=(" + subs + ")\n      subnames=(" + subnames + ")\n      opts=(" + opts +
           ")\n      vopts=(" + vopts + ")\n      pos=(" + pos + ")\n      ;;\n";
  }
  out += "    (*) subs=() subnames=() opts=() vopts=() pos=() ;;\n  esac\n}\n\n";
  std::string conn;
  for (const auto& n : connection_options(specs)) conn += (conn.empty() ? "" : " ") + sq(n);
  out += "# zeqvpnctl's own value options (control socket, config): given before the\n"
         "# subcommand, they go along when the script asks for peer names.\n"
         "typeset -ga _zeqvpnctl_conn\n_zeqvpnctl_conn=(" + conn + ")\n\n";
  out += "# _zeqvpnctl_values PATH OPTION: sets reply to the values OPTION of PATH\n"
         "# takes, if they are a fixed set.\n_zeqvpnctl_values() {\n  reply=()\n  case \"$1|$2\" in\n";
  out += values_cases(specs, "(", zsh_values);
  out += "  esac\n}\n";
  out += ZSH_BODY;
  return out;
}

void add_completion_command(CLI::App& app, std::function<std::vector<std::string>()> peer_names) {
  auto* completion = app.add_subcommand("completion", "shell completion scripts (bash, zsh) and peer names for them");
  completion->group("");  // hidden: the installed scripts are what users see
  auto shell = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  completion->add_option("WHAT", *shell, "bash, zsh, or peers (the daemon's peer names)")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "peers"}));
  completion->add_option("-o,--output", *output, "write the script to FILE instead of stdout");
  completion->callback([&app, shell, output, peer_names = std::move(peer_names)] {
    std::string text;
    if (*shell == "peers") {
      for (const auto& name : peer_names()) text += name + "\n";
    } else {
      text = *shell == "bash" ? bash_completion(app) : zsh_completion(app);
    }
    if (output->empty()) {
      std::fputs(text.c_str(), stdout);
      return;
    }
    std::ofstream out(*output, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "zeqvpnctl: %s: cannot write the completion script\n", output->c_str());
      std::exit(1);
    }
  });
}

}  // namespace zeq::ctl
