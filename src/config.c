/* config: not yet written */
