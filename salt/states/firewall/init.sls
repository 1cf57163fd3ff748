{#- roles/firewall: nftables on every node, the role's own ruleset (SSH from the controller
    only; the cluster's nodes and the controller to any port; everything else dropped),
    loaded when it changed or when the table is missing (a rebooted node). -#}
{%- from "drc/map.jinja" import drc, context with context %}
{%- if drc.firewall_enabled | to_bool %}
{#- the controller as this node sees it: where this salt-ssh session comes from #}
{%- set controller = drc.firewall_controller or (salt["environ.get"]("SSH_CLIENT").split() or [""])[0] %}
{%- if not controller or controller.count(".") != 3 %}
{{ raise("the controller's address is unknown here (no SSH_CLIENT in the session): set firewall_controller=ADDRESS, as this node sees the controller") }}
{%- endif %}
drc-firewall-nftables:
  pkg.installed:
    - pkgs: {{ drc.firewall_packages | tojson }}
    - refresh: true
    - unless: command -v nft
    - retry: {attempts: 5, interval: 5}  # a concurrent apt on a shared disk

drc-firewall-ruleset:
  file.managed:
    - name: {{ drc.firewall_ruleset }}
    - source: salt://roles/firewall/templates/drc.nft.j2
    - template: jinja
    - context: {{ dict(context, firewall_controller_address=controller) | tojson }}
    - mode: "0600"
    - makedirs: true
    - dir_mode: "0700"

drc-firewall-loaded:
  cmd.run:
    - name: nft -f {{ drc.firewall_ruleset }}
    - onchanges:
      - file: drc-firewall-ruleset
    - require:
      - pkg: drc-firewall-nftables

drc-firewall-reloaded:
  cmd.run:
    - name: nft -f {{ drc.firewall_ruleset }}
    - unless: nft list table inet {{ drc.firewall_table }}
    - require:
      - cmd: drc-firewall-loaded
{%- endif %}
