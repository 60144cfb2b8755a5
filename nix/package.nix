# drift as a Nix package: a static binary (CGO_ENABLED=0), its man pages
# and its bash, zsh and fish completions.
#
#   pkgs.callPackage ./nix/package.nix { }
#
# builds this repository at the version in ../VERSION. The flake passes src
# (its own store path) and commit (its git revision).
{
  lib,
  stdenv,
  buildGoModule,
  installShellFiles,
  versionCheckHook,
  # The Go sources of this repository.
  src ? lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../go.mod
      ../go.sum
      ../cmd
      ../internal
    ];
  },
  # The git revision, linked in (drift version); null when unknown.
  commit ? null,
}:

let
  pkgPath = "github.com/nix-drift/drift/internal/buildinfo";
in
buildGoModule (finalAttrs: {
  pname = "drift";
  # The one place the version is written.
  version = lib.removeSuffix "\n" (builtins.readFile ../VERSION);
  inherit src;

  # The NAR hash (SRI) of the vendor directory `go mod vendor` makes from
  # go.mod and go.sum. scripts/vendor-hash.sh recomputes it; the test
  # TestVendorHash (test/nix) fails when it is stale.
  vendorHash = "sha256-qpvQmpMYth1z5q+omx5kLIIDrdQdeqVArPRkWi9agiE=";

  subPackages = [ "cmd/drift" ];

  # A static binary: it is copied into the initrd as it is
  # (services.drift.wipe).
  env.CGO_ENABLED = 0;
  ldflags = [
    "-s"
    "-w"
    "-X ${pkgPath}.version=${finalAttrs.version}"
  ]
  ++ lib.optional (commit != null) "-X ${pkgPath}.commit=${commit}";

  nativeBuildInputs = [ installShellFiles ];

  # The tests need root, loop devices and btrfs-progs (and nix, promtool);
  # CI runs them (.ci/run), the sandboxed build cannot.
  doCheck = false;

  # Man pages and completions come from the binary itself, so they can
  # only be made when it runs on the build machine (not when cross
  # compiling).
  postInstall = lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
    mkdir -p man
    $out/bin/drift man --dir man
    installManPage man/*.1
    installShellCompletion --cmd drift \
      --bash <($out/bin/drift completion bash) \
      --zsh <($out/bin/drift completion zsh) \
      --fish <($out/bin/drift completion fish)
  '';

  # `drift version` prints the version linked in.
  doInstallCheck = true;
  nativeInstallCheckInputs = [ versionCheckHook ];
  versionCheckProgramArg = "version";

  meta = {
    description = "Audit an impermanent NixOS root: what the next boot destroys, and why";
    homepage = "https://github.com/nix-drift/drift";
    license = lib.licenses.mit;
    mainProgram = "drift";
    platforms = lib.platforms.linux;
  };
})
