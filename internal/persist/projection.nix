# drift's projection of config.environment.persistence (spec §2).
# Current impermanence defines removed options with mkRemovedOptionModule:
# their value throws, so plain `nix eval --json` fails. This drops exactly
# those placeholders, and only when their value throws:
#   per storage path: allowOther, removePrefixDirectory, defaultDirectoryMethod
#   per directory entry (and file parentDirectory): method
#   per users.<name>: home
# Every other error goes through. Path values become strings; functions
# (never declarations, and not JSON) are dropped.
let
  names = {
    path = [ "allowOther" "removePrefixDirectory" "defaultDirectoryMethod" ];
    dir = [ "method" ];
    user = [ "home" ];
    none = [ ];
  };
  throws = v: !(builtins.tryEval v).success;
  # ctx: which placeholders v's own attributes may be; child: context of an attribute's value
  child = ctx: n:
    if n == "directories" then "dirs"
    else if n == "parentDirectory" then "dir"
    else if n == "users" && ctx == "path" then "users"
    else "none";
  go = ctx: v:
    if builtins.isAttrs v then
      builtins.listToAttrs (builtins.concatMap (n:
        let
          x = v.${n};
          own = if ctx == "users" then "user" else ctx;
        in
        if builtins.elem n (names.${own} or [ ]) && throws x then [ ]
        else if builtins.isFunction x then [ ]
        else [ { name = n; value = go (if ctx == "users" then "user" else child own n) x; } ])
        (builtins.attrNames v))
    else if builtins.isList v then map (go (if ctx == "dirs" then "dir" else "none")) v
    else if builtins.isPath v then toString v
    else v;
in
persistence: builtins.mapAttrs (_: go "path") persistence
