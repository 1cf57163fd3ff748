{#- roles/firewall (check): the node's table is in the kernel and drops by default. -#}
{%- from "drc/map.jinja" import drc with context %}
{%- if drc.firewall_enabled | to_bool %}
drc-firewall-drops:
  cmd.run:
    - name: >-
        echo "the firewall's table inet {{ drc.firewall_table }} is not loaded with policy drop" >&2; exit 1
    - unless: nft list chain inet {{ drc.firewall_table }} input | grep -q 'policy drop'
{%- endif %}
