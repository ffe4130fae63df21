<?php
declare(strict_types=1);

namespace Magento\Framework\HTTP;

/**
 * Stub of Magento's HTTP client interface (the methods the module uses), for the unit tests.
 */
interface ClientInterface
{
    /**
     * Set the request timeout in seconds.
     *
     * @param int $value
     * @return void
     */
    public function setTimeout($value);

    /**
     * Make a GET request.
     *
     * @param string $uri
     * @return void
     */
    public function get($uri);

    /**
     * The response status.
     *
     * @return int
     */
    public function getStatus();

    /**
     * The response body.
     *
     * @return string
     */
    public function getBody();
}
