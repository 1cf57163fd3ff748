#!/bin/sh
# Vault password for ansible-vault: $DRC_VAULT_PASSWORD, else the documented password of the
# example vault shipped in git (it holds placeholders only; see README "Secrets").
printf '%s\n' "${DRC_VAULT_PASSWORD:-dr-cluster-example}"
