# drift as a Nix package: a static binary (CGO_ENABLED=0), its man pages
# and its bash, zsh and fish completions. Called by the flake (packages,
# overlay, NixOS module) with callPackage; src, version and commit come from
# the flake.
{
  lib,
  stdenv,
  buildGoModule,
  # Go 1.26 at least (go.mod); taken when this nixpkgs has it, else the
  # default buildGoModule must be new enough.
  buildGo126Module ? null,
  installShellFiles,
  src,
  version,
  # The git revision the flake was built from; null for a dirty tree.
  commit ? null,
}:

let
  build = if buildGo126Module != null then buildGo126Module else buildGoModule;
  pkgPath = "github.com/nix-drift/drift/internal/buildinfo";
in
build {
  pname = "drift";
  inherit version src;

  # The NAR hash (SRI) of the vendor directory `go mod vendor` makes from
  # go.mod and go.sum. scripts/vendor-hash.sh recomputes it; the test
  # TestVendorHash (test/nix) fails when it is stale.
  vendorHash = "sha256-qpvQmpMYth1z5q+omx5kLIIDrdQdeqVArPRkWi9agiE=";

  subPackages = [ "cmd/drift" ];

  # A static binary: it is copied into the initrd as it is
  # (services.drift.wipe).
  env.CGO_ENABLED = 0;
  ldflags =
    [
      "-s"
      "-w"
      "-X ${pkgPath}.version=${version}"
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

  meta = {
    description = "Audit an impermanent NixOS root: what the next boot destroys, and why";
    homepage = "https://github.com/nix-drift/drift";
    mainProgram = "drift";
    platforms = lib.platforms.linux;
  };
}
