# A stand-in for the two functions of NixOS's utils (nixos/lib/utils.nix)
# that nix/module.nix uses, written to the rules they follow:
#
#   escapeSystemdPath: systemd-escape --path (systemd.unit(5)): redundant
#   and outer slashes dropped, "/" -> "-", every byte outside
#   [A-Za-z0-9:_.] (and a leading ".") as \xNN;
#   escapeSystemdExecArgs: each argument as a JSON string with % and $
#   doubled (no specifier or variable expansion), joined by spaces.
#
# TestDeviceUnitName holds escapeSystemdPath against systemd-escape.
let
  hex = {
    " " = "20";
    "!" = "21";
    "\"" = "22";
    "#" = "23";
    "$" = "24";
    "%" = "25";
    "&" = "26";
    "'" = "27";
    "(" = "28";
    ")" = "29";
    "*" = "2a";
    "+" = "2b";
    "," = "2c";
    "-" = "2d";
    ";" = "3b";
    "<" = "3c";
    "=" = "3d";
    ">" = "3e";
    "?" = "3f";
    "@" = "40";
    "[" = "5b";
    "\\" = "5c";
    "]" = "5d";
    "^" = "5e";
    "`" = "60";
    "{" = "7b";
    "|" = "7c";
    "}" = "7d";
    "~" = "7e";
  };
  escapeChar =
    c:
    if builtins.match "[A-Za-z0-9:_.]" c != null then
      c
    else if hex ? ${c} then
      "\\x" + hex.${c}
    else
      throw "utils-stub: no escape for ${builtins.toJSON c}";
  escapePart =
    part:
    builtins.concatStringsSep "" (
      map escapeChar (builtins.genList (i: builtins.substring i 1 part) (builtins.stringLength part))
    );
in
{
  escapeSystemdPath =
    p:
    let
      parts = builtins.filter (x: builtins.isString x && x != "" && x != ".") (builtins.split "/" p);
      joined = builtins.concatStringsSep "-" (map escapePart parts);
    in
    if builtins.elem ".." parts then
      throw "escapeSystemdPath: ${p} is not a normalized path"
    else if parts == [ ] then
      "-"
    else if builtins.substring 0 1 joined == "." then
      "\\x2e" + builtins.substring 1 (-1) joined
    else
      joined;
  escapeSystemdExecArgs =
    args:
    builtins.concatStringsSep " " (
      map (a: builtins.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON (toString a))) args
    );
}
